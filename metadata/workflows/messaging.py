"""The outbox: every e-mail and SMS a workflow sends is a row, written in the step's
transaction and delivered after commit by a task that retries transient failures.

E-mail goes through Django's mail backend (SMTP in production). SMS goes through a
provider (``ATRIUM_SMS_PROVIDER``, a dotted path); ``LocalSmsProvider`` keeps what it was
given, for development and tests. Unsubscribe links carry a signed token naming the
tenant, the guest, the channel and the purpose; following one records the opt-out."""

from __future__ import annotations

import smtplib
import socket
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from metadata.models import OutboxMessage
from metadata.workflows.dispatch import inline_register, task_send
from tenants.context import current_schema, current_tenant

UNSUBSCRIBE_SALT = "atrium.unsubscribe"
MAX_DELIVERY_ATTEMPTS = 5


class TransientDeliveryError(Exception):
    """Try again later (the server was away, busy, or said 4xx)."""


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, body: str) -> str:
        """Send one message; return the provider's id for it. Raise
        TransientDeliveryError when a retry may succeed."""
        ...


class LocalSmsProvider:
    """Sends nothing: remembers every message, in order (development and tests)."""

    name = "local"
    sent: ClassVar[list[dict[str, str]]] = []

    def send(self, *, to: str, body: str) -> str:
        LocalSmsProvider.sent.append({"to": to, "body": body, "schema": current_schema()})
        return f"local-{len(LocalSmsProvider.sent)}"


def sms_provider() -> SmsProvider:
    return import_string(str(settings.ATRIUM_SMS_PROVIDER))()


def unsubscribe_token(*, subject_type: str, subject_id: int, channel: str, purpose: str) -> str:
    return signing.dumps(
        {"t": current_schema(), "s": subject_type, "i": subject_id, "c": channel, "p": purpose},
        salt=UNSUBSCRIBE_SALT,
        compress=True,
    )


def unsubscribe_token_read(token: str) -> dict[str, Any] | None:
    """The token's content if it is genuine and for this tenant, else None."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != current_schema():
        return None
    return {
        "subject_type": data["s"],
        "subject_id": data["i"],
        "channel": data["c"],
        "purpose": data["p"],
    }


def tenant_base_url() -> str:
    tenant = current_tenant()
    domain = None
    if tenant is not None and getattr(tenant, "pk", None):
        from tenants.models import Domain

        domain = (
            Domain.objects.filter(tenant_id=tenant.pk)
            .order_by("-is_primary", "pk")
            .values_list("domain", flat=True)
            .first()
        )
    return f"{settings.ATRIUM_URL_SCHEME}://{domain or settings.ATRIUM_PUBLIC_DOMAIN}"


def unsubscribe_url(token: str) -> str:
    return tenant_base_url() + reverse("unsubscribe", args=[token])


def outbox_enqueue(**fields) -> OutboxMessage:
    """Write the message; deliver it once the transaction commits."""
    message = OutboxMessage.objects.create(**fields)
    transaction.on_commit(lambda: task_send("outbox_deliver", message.pk))
    return message


def _send_email(message: OutboxMessage) -> str:
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={**message.headers, "Content-Language": message.language},
    )
    try:
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([email])
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TransientDeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
        # OSError covers refused connections and timeouts (socket.timeout is one).
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    return "smtp"


def outbox_deliver(*, message_id: int) -> OutboxMessage | None:
    """Send one queued message. A message already sent (a redelivered task) is left
    alone; a transient failure raises TransientDeliveryError for the task to retry, up to
    MAX_DELIVERY_ATTEMPTS, then the message is marked failed."""
    retry: TransientDeliveryError | None = None
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.QUEUED)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            if message.channel == OutboxMessage.Channel.EMAIL:
                message.provider = _send_email(message)
            else:
                provider = sms_provider()
                provider.send(to=message.recipient, body=message.body)
                message.provider = provider.name
        except TransientDeliveryError as exc:
            message.error = str(exc)
            if message.attempts >= MAX_DELIVERY_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
            else:
                retry = exc
        except (smtplib.SMTPException, socket.gaierror, ValueError) as exc:
            message.status = OutboxMessage.Status.FAILED
            message.error = f"{type(exc).__name__}: {exc}"
        else:
            message.status = OutboxMessage.Status.SENT
            message.sent_at = timezone.now()
            message.error = ""
        message.save(update_fields=["attempts", "status", "provider", "error", "sent_at"])
    if retry is not None:
        raise retry
    return message


inline_register(
    "outbox_deliver",
    lambda message_id: outbox_deliver(message_id=message_id),
    retryable=(TransientDeliveryError,),
)
