"""Sending a campaign's queued recipients, and what comes back: opens, clicks,
unsubscribes, bounces and complaints.

Each recipient is sent inside its own transaction that holds its row locked
(``SELECT ... FOR UPDATE SKIP LOCKED``) from before the send until the row says
``sent``: two workers never take the same row, and a worker killed mid-chunk leaves its
unsent rows ``queued`` (its locks go with its connection) for the redelivered task or
the sweeper. The window left is a worker dying between the mail server's acceptance and
the commit (milliseconds); that message may go twice, never none.

Before each message, the guest must (still) have opted in to marketing on the channel,
its address must not be suppressed, and the per-guest frequency cap must allow it."""

from __future__ import annotations

import logging
import smtplib
import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from crm.marketing import rendering
from crm.marketing.models import Campaign, Recipient, Suppression
from crm.marketing.services.templates import message_context, recipient_language
from crm.models import Guest
from tenants.access import registry
from tenants.access.principal import Principal
from tenants.context import current_schema

log = logging.getLogger(__name__)

TOKEN_SALT = "atrium.marketing.tracking"  # noqa: S105 - a namespace, not a secret
CHUNK = 200
# Statuses a later event may replace: an open does not undo a bounce or an unsubscribe.
PROGRESS = ("sent", "delivered", "opened")


# --- signed tokens ----------------------------------------------------------------------


def token_make(kind: str, recipient_id: int, url: str = "") -> str:
    data: dict[str, Any] = {"t": current_schema(), "k": kind, "r": recipient_id}
    if url:
        data["u"] = url
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def token_read(token: str, kind: str) -> dict[str, Any] | None:
    """The token's content if it is genuine, of this kind and for this tenant's schema
    (a token of another hotel group is refused like a forged one)."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != current_schema() or data.get("k") != kind:
        return None
    if not isinstance(data.get("r"), int):
        return None
    return data


def _url(name: str, token: str, base: str | None = None) -> str:
    """``base``: the tenant's address when the caller has it (a chunk reads it once)."""
    if base is None:
        from metadata.workflows.messaging import tenant_base_url

        base = tenant_base_url()
    return base + reverse(name, args=[token])


def unsubscribe_url(recipient_id: int, base: str | None = None) -> str:
    return _url("marketing_unsubscribe", token_make("u", recipient_id), base)


# --- eligibility --------------------------------------------------------------------------


def address_suppressed(*, channel: str, address: str) -> bool:
    return Suppression.objects.filter(channel=channel, address=address.strip().lower()).exists()


def _refusal(campaign: Campaign, guest: Guest, address: str) -> str:
    """Why this guest must not get this campaign ("" when it may)."""
    from tenants.access.consent import marketing_allowed

    if guest.erased_at is not None:
        return "erased"
    if not address:
        return f"no {campaign.channel} address"
    if not marketing_allowed(subject_id=guest.pk, channel=campaign.channel):
        return "no consent"
    if address_suppressed(channel=campaign.channel, address=address):
        return "suppressed"
    if campaign.frequency_cap_days:
        since = timezone.now() - timedelta(days=campaign.frequency_cap_days)
        if (
            Recipient.objects.filter(guest_id=guest.pk, sent_at__gte=since)
            .exclude(campaign_id=campaign.pk)
            .exists()
        ):
            return "frequency cap"
    return ""


# --- sending ------------------------------------------------------------------------------


class _Transient(Exception):
    pass


def _email(
    campaign: Campaign, recipient: Recipient, guest: Guest, reader, connection, base: str
) -> str:
    language = recipient_language(guest.language, campaign.content)
    content = dict(campaign.content[language])
    if recipient.variant == "b" and campaign.subject_b:
        subject_b = campaign.subject_b
        content["subject"] = subject_b.get(language) or next(iter(subject_b.values()))
    unsubscribe = unsubscribe_url(recipient.pk, base)
    rendered = rendering.render(
        content,
        message_context(guest=guest, language=language, reader=reader, offer=campaign.offer),
        language=language,
        unsubscribe_url=unsubscribe,
        link=lambda url: _url("marketing_click", token_make("c", recipient.pk, url), base),
        open_pixel_url=_url("marketing_open", token_make("o", recipient.pk), base),
    )
    domain = settings.ATRIUM_PUBLIC_DOMAIN
    message_id = f"<c{campaign.pk}.r{recipient.pk}.{current_schema()}@{domain}>"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[guest.email],
        headers={
            "Message-ID": message_id,
            "Content-Language": language,
            # RFC 8058: one POST to this URL unsubscribes, with no page to confirm.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Atrium-Campaign": str(campaign.pk),
        },
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    recipient.language = language
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise _Transient(f"SMTP {exc.smtp_code}") from exc
        raise
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    return message_id


def _sms(campaign: Campaign, recipient: Recipient, guest: Guest, reader) -> str:
    from metadata.workflows.messaging import sms_provider

    language = recipient_language(guest.language, campaign.content)
    rendered = rendering.render(
        campaign.content[language],
        message_context(guest=guest, language=language, reader=reader, offer=campaign.offer),
        language=language,
    )
    recipient.language = language
    text = " ".join(rendered.text.split())
    stop = unsubscribe_url(recipient.pk)
    return sms_provider().send(to=guest.phone, body=f"{text} STOP: {stop}")


def campaign_deliver(*, campaign_id: int, limit: int = CHUNK) -> dict[str, int]:
    """Send up to ``limit`` queued recipients (those with a variant: an A/B rest waits
    for its winner). Stops early when the campaign is paused or cancelled. When nothing
    is left to send, the campaign is marked sent (and ``campaign.sent`` published)."""
    from metadata.workflows.masking import owner_principal
    from metadata.workflows.messaging import tenant_base_url

    counts = {"sent": 0, "skipped": 0, "failed": 0, "retry": 0}
    campaign = Campaign.objects.select_related("offer").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return counts
    reader = owner_principal(campaign.created_by_id)
    connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    # What every message of the chunk reads the same: the tenant's address (four links
    # a message) and, as a request would, the rights and definitions versions (masking
    # the merge fields). Read once per chunk; a change applies from the next chunk.
    base = tenant_base_url()
    try:
        with registry.catalogue_cached():
            for _ in range(limit):
                if not Campaign.objects.filter(pk=campaign_id, status="sending").exists():
                    break
                outcome = _deliver_one(campaign, reader, connection, base)
                if outcome is None:
                    break
                counts[outcome] += 1
                if outcome == "retry":
                    break
    finally:
        connection.close()
    _finish_if_done(campaign_id)
    return counts


def _deliver_one(campaign: Campaign, reader: Principal | None, connection, base: str) -> str | None:
    with transaction.atomic():
        recipient = (
            Recipient.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign.pk, status=Recipient.Status.QUEUED)
            .exclude(variant="")
            .order_by("pk")
            .first()
        )
        if recipient is None:
            return None
        guest = Guest.objects.get(pk=recipient.guest_id)
        address = guest.email if campaign.channel == "email" else guest.phone
        recipient.address = (address or "").strip().lower()
        recipient.attempts += 1
        reason = _refusal(campaign, guest, address or "")
        fields = ["status", "reason", "address", "attempts", "language", "error"]
        if reason:
            recipient.status, recipient.reason = Recipient.Status.SKIPPED, reason
            recipient.save(update_fields=fields)
            return "skipped"
        try:
            if campaign.channel == "email":
                recipient.message_id = _email(campaign, recipient, guest, reader, connection, base)
            else:
                recipient.message_id = str(_sms(campaign, recipient, guest, reader))[:200]
        except _Transient as exc:
            recipient.error = str(exc)
            if recipient.attempts >= 5:
                recipient.status = Recipient.Status.FAILED
            recipient.save(update_fields=fields)
            return "failed" if recipient.status == "failed" else "retry"
        except (smtplib.SMTPException, socket.gaierror, ValueError) as exc:
            recipient.status, recipient.error = Recipient.Status.FAILED, f"{exc}"[:1000]
            recipient.save(update_fields=fields)
            return "failed"
        recipient.status = Recipient.Status.SENT
        recipient.sent_at = timezone.now()
        recipient.error = ""
        recipient.save(update_fields=[*fields, "message_id", "sent_at"])
        return "sent"


def _finish_if_done(campaign_id: int) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != Campaign.Status.SENDING:
            return
        if Recipient.objects.filter(campaign_id=campaign_id, status="queued").exists():
            return
        campaign.status = Campaign.Status.SENT
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
        counts = dict(
            Recipient.objects.filter(campaign_id=campaign_id)
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        from crm.marketing.events import publish

        publish(
            "campaign.sent",
            "campaign",
            {"object": "campaign", "id": str(campaign_id), "name": campaign.name, "counts": counts},
        )


# --- what comes back ----------------------------------------------------------------------


def open_record(*, recipient_id: int) -> None:
    now = timezone.now()
    Recipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(opened_at=now)
    Recipient.objects.filter(pk=recipient_id, status__in=("sent", "delivered")).update(
        status=Recipient.Status.OPENED
    )


def click_record(*, recipient_id: int, url: str) -> str | None:
    """The URL to redirect to, if it is one of the links of the message this recipient
    was sent; None otherwise (never an open redirect)."""
    recipient = Recipient.objects.select_related("campaign").filter(pk=recipient_id).first()
    if recipient is None:
        return None
    content: dict[str, dict[str, str]] = recipient.campaign.content or {}
    # The language the recipient was sent; any of the campaign's if that is not known.
    sent = [content[recipient.language]] if recipient.language in content else []
    allowed = {u for c in (sent or content.values()) for u in rendering.message_links(c["body"])}
    if url not in allowed:
        return None
    now = timezone.now()
    Recipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(opened_at=now)
    Recipient.objects.filter(pk=recipient_id, clicked_at__isnull=True).update(clicked_at=now)
    Recipient.objects.filter(pk=recipient_id, status__in=PROGRESS).update(
        status=Recipient.Status.CLICKED
    )
    return url


@transaction.atomic
def unsubscribe(*, recipient_id: int) -> Recipient | None:
    """The guest opts out of marketing on the campaign's channel (a consent row, which
    every later send checks) and the address is suppressed (which outlives the profile:
    a guest deleted and imported again stays unsubscribed)."""
    from crm.services.guests import guest_consent_record

    recipient = Recipient.objects.select_related("campaign").filter(pk=recipient_id).first()
    if recipient is None:
        return None
    channel = recipient.campaign.channel
    guest = Guest.objects.filter(pk=recipient.guest_id).first()
    if guest is not None and guest.erased_at is None:
        guest_consent_record(
            guest=guest,
            channel=channel,
            purpose="marketing",
            opted_in=False,
            source=f"unsubscribe: campaign {recipient.campaign_id}",
            # The signed link is the guest's own word; no staff member acts here.
            actor=Principal.system("marketing unsubscribe"),
        )
    suppress(
        channel=channel,
        address=recipient.address,
        reason=Suppression.Reason.UNSUBSCRIBED,
        guest_id=recipient.guest_id,
        campaign_id=recipient.campaign_id,
    )
    if recipient.status != Recipient.Status.UNSUBSCRIBED:
        Recipient.objects.filter(pk=recipient.pk).update(status=Recipient.Status.UNSUBSCRIBED)
        from crm.marketing.events import publish

        publish(
            "message.unsubscribed",
            "campaign",
            {"object": "campaign", "id": str(recipient.campaign_id), "guest": recipient.guest_id},
        )
    return recipient


def suppression_add(*, channel: str, address: str, actor: Principal) -> Suppression:
    """A marketer suppresses an address by hand (a guest who asked by phone, a
    competitor's, a role address): no campaign reaches it again on that channel."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    actor.require("campaign", "edit")
    address = (address or "").strip().lower()
    if channel == "email":
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"address": f"{address!r} is not an e-mail address."}) from None
    elif channel == "sms":
        if not (address.startswith("+") and address[1:].isdigit() and 8 <= len(address) <= 16):
            raise ValidationError({"address": "Give the phone number in E.164 (+33612345678)."})
    else:
        raise ValidationError({"channel": "The channel is email or sms."})
    suppress(channel=channel, address=address, reason=Suppression.Reason.MANUAL)
    return Suppression.objects.get(channel=channel, address=address)


def suppress(
    *,
    channel: str,
    address: str,
    reason: str,
    guest_id: int | None = None,
    campaign_id: int | None = None,
) -> None:
    address = (address or "").strip().lower()
    if not address:
        return
    Suppression.objects.get_or_create(
        channel=channel,
        address=address,
        defaults={"reason": reason, "guest_id": guest_id, "campaign_id": campaign_id},
    )


@transaction.atomic
def provider_event_apply(*, event: str, message_id: str = "", address: str = "") -> int:
    """A provider's delivery report: ``delivered``, ``bounced`` (hard), ``complained``.
    Found by the Message-ID we set (or, failing that, the address's latest message).
    Bounces and complaints suppress the address. Returns how many rows changed."""
    if event not in ("delivered", "bounced", "complained"):
        return 0
    rows = Recipient.objects.select_related("campaign").select_for_update()
    if message_id:
        found = rows.filter(message_id=message_id.strip()).first()
    else:
        found = (
            rows.filter(address=address.strip().lower(), sent_at__isnull=False)
            .order_by("-sent_at")
            .first()
        )
    if found is None:
        if address and event != "delivered":
            suppress(channel="email", address=address, reason=event)
        return 0
    if event == "delivered":
        return Recipient.objects.filter(pk=found.pk, status="sent").update(status="delivered")
    suppress(
        channel=found.campaign.channel,
        address=found.address,
        reason=event,
        guest_id=found.guest_id,
        campaign_id=found.campaign_id,
    )
    changed = Recipient.objects.filter(pk=found.pk).exclude(status=event).update(status=event)
    if changed:
        from crm.marketing.events import publish

        publish(
            f"message.{event}",
            "campaign",
            {"object": "campaign", "id": str(found.campaign_id), "guest": found.guest_id},
        )
    return changed


def provider_unsubscribe(*, message_id: str = "", address: str = "") -> None:
    """An unsubscribe the provider took (its own link or the mailbox's button)."""
    rows = Recipient.objects.exclude(sent_at=None)
    found = (
        rows.filter(message_id=message_id.strip()).first()
        if message_id
        else rows.filter(address=address.strip().lower()).order_by("-sent_at").first()
    )
    if found is not None:
        unsubscribe(recipient_id=found.pk)
    elif address:
        suppress(channel="email", address=address, reason=Suppression.Reason.UNSUBSCRIBED)


def stale_sending(*, older_than: timedelta | None = None) -> list[int]:
    """Campaigns sending with queued rows none of which moved lately: a lost or killed
    chunk; the sweeper queues them again (a chunk takes unlocked rows only, so a live
    worker's rows are never sent twice)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.ATRIUM_MARKETING_STALE_SECONDS)
    since = timezone.now() - older_than
    ids = (
        Campaign.objects.filter(status="sending")
        .filter(Q(recipients__status="queued") & ~Q(recipients__variant=""))
        .values_list("pk", flat=True)
        .distinct()
    )
    out = []
    for pk in ids:
        latest = (
            Recipient.objects.filter(campaign_id=pk)
            .order_by(F("updated_at").desc(nulls_last=True))
            .values_list("updated_at", flat=True)
            .first()
        )
        if latest is None or latest < since:
            out.append(pk)
    return out
