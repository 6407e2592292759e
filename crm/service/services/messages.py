"""Talking to the guest from a case by e-mail.

A reply goes out in the guest's language (when the group offers it) through the message
outbox (delivered after commit, retried, its status kept), with a reply-to address that
names the case and carries a signature: ``reply+c<case id>.<hmac>@<the group's domain>``
(lower-case hex, so mail systems that lower-case addresses keep it valid). The guest's
answer, handed over by the mail provider's inbound hook, is matched by that address:
it lands on the same case: a case waiting on the guest goes back to ``open`` (its clock
runs again), a resolved or closed one is ``reopened``."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from crm.models import Case
from crm.service import clock
from crm.service.models import CaseMessage, CaseSla
from crm.service.services.sla import case_sla_resume, sla_responded
from tenants.access.principal import Principal
from tenants.context import current_schema, current_tenant
from tenants.errors import Conflict

REPLY_SALT = "atrium.service.case-reply"
ADDRESS_RE = re.compile(r"reply\+c(\d{1,18})\.([0-9a-f]{20})@", re.IGNORECASE)
MAX_BODY = 20_000


def _signature(case_id: int) -> str:
    return salted_hmac(REPLY_SALT, f"{current_schema()}:{case_id}").hexdigest()[:20]


def _domain() -> str:
    from tenants.models import Domain

    tenant = current_tenant()
    found = None
    if tenant is not None and getattr(tenant, "pk", None):
        found = (
            Domain.objects.filter(tenant_id=tenant.pk)
            .order_by("-is_primary", "pk")
            .values_list("domain", flat=True)
            .first()
        )
    return str(found or settings.ATRIUM_PUBLIC_DOMAIN)


def reply_address(case: Case) -> str:
    return f"reply+c{case.pk}.{_signature(case.pk)}@{_domain()}"


def case_from_address(address: str) -> Case | None:
    """The case a reply-to address names, if its signature holds in this tenant."""
    match = ADDRESS_RE.search(address or "")
    if match is None:
        return None
    case_id, signature = int(match.group(1)), match.group(2).lower()
    if not constant_time_compare(signature, _signature(case_id)):
        return None
    return Case.objects.filter(pk=case_id).first()


def _language(guest) -> str:
    """The guest's language when the group offers it, else the group's default."""
    tenant = current_tenant()
    offered = set(getattr(tenant, "enabled_languages", None) or ())
    default = getattr(tenant, "default_language", None) or "en"
    return guest.language if guest.language and guest.language in offered | {default} else default


@transaction.atomic
def case_reply_send(*, case: Case, body: str, subject: str = "", actor: Principal) -> CaseMessage:
    """Reply to the case's guest by e-mail. 400 naming ``guest`` when the case has no
    guest with an e-mail address; 409 ``opted_out`` after an opt-out of service e-mail."""
    from crm.selectors.guests import guest_consent_state
    from metadata.workflows.messaging import outbox_enqueue

    actor.require("case", "edit")
    actor.require_property(case.property_id)
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY or "\x00" in body:
        raise ValidationError({"body": f"Write the reply (up to {MAX_BODY} characters)."})
    if len(subject) > 200 or "\x00" in subject:
        raise ValidationError({"subject": "Up to 200 characters."})
    guest = case.guest
    if guest is None or guest.erased_at is not None or not guest.email:
        raise ValidationError({"guest": "The case has no guest with an e-mail address."})
    if guest_consent_state(guest_id=guest.pk, channel="email", purpose="service") is False:
        raise Conflict("The guest opted out of service e-mail.", code="opted_out", field="guest")
    language = _language(guest)
    with translation.override(language):
        subject = subject.strip() or _("About your request: %(subject)s") % {
            "subject": case.subject
        }
        text = body + "\n\n-- \n" + _("Reply to this e-mail to answer us.")
    address = reply_address(case)
    outbox = outbox_enqueue(
        channel="email",
        object_api_name="case",
        record_id=str(case.pk),
        recipient=guest.email,
        language=language,
        subject=subject[:300],
        body=text,
        headers={"Reply-To": address},
    )
    message = CaseMessage.objects.create(
        case=case,
        direction=CaseMessage.Direction.OUT,
        address=guest.email,
        subject=subject[:300],
        body=text,
        language=language,
        user_id=actor.user_id,
        outbox_id=outbox.pk,
        created_at=clock.now(),
    )
    sla_responded(case=case)
    return message


def _plain(text: str | None, limit: int) -> str:
    """Mail text as PostgreSQL can keep it: no NUL characters, no lone surrogates (a
    badly encoded part decodes to them), at most ``limit`` characters."""
    text = (text or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit]


@transaction.atomic
def case_reply_receive(
    *,
    to: list[str],
    sender: str,
    subject: str,
    text: str,
    message_id: str = "",
    actor: Principal | None = None,
) -> CaseMessage | None:
    """The guest's answer, from the mail provider's inbound hook: kept on the case its
    reply-to address names (None when no address is genuine). A case waiting on the guest
    goes back to ``open`` and a resolved or closed one is ``reopened`` (its timers follow
    the status); a clock paused through the pause door for the guest starts again. The
    same ``message_id`` twice (a provider's retry) keeps one message and returns it."""
    case = next((c for c in (case_from_address(a) for a in to) if c is not None), None)
    if case is None:
        return None
    case = _merged_into(case)
    if actor is not None:
        # A relay acting for a user: the case must be within that user's reach.
        actor.require("case", "edit")
        if not actor.scope("case", Case.objects.filter(pk=case.pk)).exists():
            return None
    message_id = _plain(message_id, 300).strip()
    if message_id:
        # One answer per Message-ID, also when the provider posts it twice at once: the
        # case row is the lock.
        Case.objects.select_for_update().filter(pk=case.pk).first()
        kept = CaseMessage.objects.filter(case=case, message_id=message_id).first()
        if kept is not None:
            return kept
    message = CaseMessage.objects.create(
        case=case,
        direction=CaseMessage.Direction.IN,
        address=_plain(sender, 254),
        subject=_plain(subject, 300),
        body=_plain(text, MAX_BODY),
        message_id=message_id,
        created_at=clock.now(),
    )
    _guest_answered(case)
    return message


def _merged_into(case: Case) -> Case:
    """The case a duplicate was folded into (the guest answers the address of the
    duplicate's e-mails): the answer lands there rather than reopening the duplicate."""
    from crm.service.models import CaseMerge

    for _hop in range(10):
        merge = CaseMerge.objects.select_related("primary").filter(duplicate=case).first()
        if merge is None:
            break
        case = merge.primary
    return case


# Where a guest's answer moves a case (any other status stays as it is).
ANSWER_MOVES: dict[str, str] = {
    Case.Status.WAITING_ON_GUEST: Case.Status.OPEN,
    Case.Status.RESOLVED: Case.Status.REOPENED,
    Case.Status.CLOSED: Case.Status.REOPENED,
}


def _guest_answered(case: Case) -> None:
    from crm.services.cases import case_update

    system = Principal.system("service: the guest answered")
    status = Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
    moved_to = ANSWER_MOVES.get(status) if status is not None else None
    if moved_to is not None:
        case_update(case=case, status=moved_to, actor=system)
    sla = CaseSla.objects.filter(case=case, pause_reason="waiting_on_guest").first()
    if sla is not None and sla.paused_since is not None:
        case_sla_resume(case=case, actor=system)


def on_inbound_mail(sender, event, esp_name: str = "", **kwargs) -> None:
    """anymail's ``inbound`` signal: the message is an answer when one of its recipients
    (the envelope's first) is a genuine reply-to address of this tenant; other mail is
    left alone (the provider still gets its 200, so it does not retry)."""
    message = event.message
    if message is None:
        return
    recipients = [message.envelope_recipient or ""]
    recipients += [a.addr_spec for a in (message.to or [])]
    recipients += [a.addr_spec for a in (message.cc or [])]
    sender_address = message.from_email.addr_spec if message.from_email else ""
    case_reply_receive(
        to=[r for r in recipients if r],
        sender=sender_address or message.envelope_sender or "",
        subject=message.subject or "",
        text=message.stripped_text or message.text or "",
        message_id=message.get("Message-ID", "") or event.event_id or "",
    )
