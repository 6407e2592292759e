"""Data-subject requests: export everything about a guest; erase a guest."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from crm.models import (
    Activity,
    Case,
    CompanyContact,
    DuplicateSuggestion,
    FolioLine,
    Guest,
    GuestConsent,
    MergeLog,
    Payment,
    PrivacyRequest,
    RecordChange,
    Reservation,
)
from crm.services.audit import event_record
from crm.services.common import json_safe
from crm.services.tabular import text_neutralise
from metadata.models import OutboxMessage, WorkflowRun, WorkflowRunStep
from tenants.access.audit import audit_log
from tenants.access.models import AuditEvent
from tenants.access.principal import Principal
from tenants.errors import Conflict
from tenants.integrations.models import WebhookDelivery

PROFILE_FIELDS = (
    "id",
    "name_prefix",
    "given_name",
    "middle_name",
    "surname",
    "name_suffix",
    "birth_date",
    "gender",
    "nationality",
    "language",
    "email",
    "phone",
    "id_document_type",
    "id_document_number",
    "id_document_expiry",
    "id_document_country",
    "customer_type",
    "vip_level",
    "tags",
    "stays",
    "nights",
    "revenue",
    "first_stay",
    "last_stay",
    "custom",
    "created",
    "updated",
)


def _rows(queryset, exclude: tuple[str, ...] = ("guest",)) -> list[dict]:
    out = []
    for obj in queryset:
        out.append(
            {
                f.attname if f.is_relation else f.name: getattr(
                    obj, f.attname if f.is_relation else f.name
                )
                for f in obj._meta.concrete_fields
                if f.name not in exclude
            }
        )
    return out


@transaction.atomic
def guest_export(*, guest: Guest, actor: Principal, reason: str = "") -> dict:
    """Everything the tenant holds about the guest, as JSON-ready data (identity
    document in clear: the export goes to the data subject). Administrators only,
    since it holds every field, sensitive ones included. Logged."""
    actor.require_admin("export a guest's personal data")
    reservations = Reservation.objects.filter(
        models.Q(stays__guest=guest) | models.Q(guest=guest) | models.Q(booker_guest=guest)
    ).distinct()
    data = {
        "profile": {name: getattr(guest, name) for name in PROFILE_FIELDS},
        "emails": _rows(guest.emails.all()),
        "phones": _rows(guest.phones.all()),
        "addresses": _rows(guest.addresses.all()),
        "preferences": _rows(guest.preferences.all()),
        "consents": _rows(guest.consents.all()),
        "external_ids": _rows(guest.external_ids.all()),
        "companies": _rows(CompanyContact.objects.filter(guest=guest)),
        "reservations": [
            {
                **_rows([r], exclude=())[0],
                "folio_lines": _rows(FolioLine.objects.filter(reservation=r), ("reservation",)),
                "payments": _rows(Payment.objects.filter(reservation=r), ("reservation",)),
            }
            for r in reservations.order_by("arrival", "pk")
        ],
        "cases": _rows(Case.objects.filter(guest=guest).order_by("pk")),
        "activities": _rows(
            Activity.objects.filter(object_api_name="guest", record_id=str(guest.pk)), ()
        ),
        "messages": _rows(_messages_of(guest).order_by("pk"), ()),
        "changes": _rows(
            RecordChange.objects.filter(object_api_name="guest", record_id=str(guest.pk)), ()
        ),
    }
    PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.EXPORT, guest_id=guest.pk, user_id=actor.user_id, reason=reason
    )
    # Also in the tenant's audit log, where administrators review who read what.
    audit_log(
        action=AuditEvent.Action.PRIVACY_EXPORT,
        actor=actor,
        object_api_name="guest",
        record_id=str(guest.pk),
        details={"reason": reason} if reason else None,
    )
    return json_safe(data)


def _contacts(guest: Guest) -> tuple[set[str], set[str]]:
    """The guest's e-mail addresses (lower case) and phone numbers, profile row included."""
    emails = {e.lower() for e in guest.emails.values_list("email", flat=True)}
    phones = set(guest.phones.values_list("number", flat=True))
    if guest.email:
        emails.add(guest.email.lower())
    if guest.phone:
        phones.add(guest.phone)
    return emails, phones


def _messages_of(guest: Guest) -> models.QuerySet[OutboxMessage]:
    """Messages sent about the guest or to one of their addresses or numbers (a
    pre-arrival e-mail is about the reservation but goes to the guest)."""
    emails, phones = _contacts(guest)
    recipient = models.Q(pk__in=[])
    for email in emails:
        recipient |= models.Q(recipient__iexact=email)
    if phones:
        recipient |= models.Q(recipient__in=phones)
    return OutboxMessage.objects.filter(
        models.Q(object_api_name="guest", record_id=str(guest.pk)) | recipient
    )


# Sections of the CSV files in the export archive; nested lists (a reservation's folio
# lines and payments) get files of their own.
_CSV_SECTIONS = (
    "emails",
    "phones",
    "addresses",
    "preferences",
    "consents",
    "external_ids",
    "companies",
    "reservations",
    "cases",
    "activities",
    "messages",
    "changes",
)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["empty"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # Nested values as JSON; text a spreadsheet would run as a formula gets OWASP's
        # leading quote, as the record exports do.
        writer.writerow(
            {
                k: text_neutralise(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                )
                if isinstance(v, (dict, list, str))
                else v
                for k, v in row.items()
            }
        )
    # A byte order mark, so that Excel reads the UTF-8 (names in Chinese) as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def guest_export_archive(*, data: dict) -> bytes:
    """A zip of what ``guest_export`` returned: ``guest.json`` with everything, and one
    CSV file per section (``profile.csv`` one row; folio lines and payments apart)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("guest.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("profile.csv", _csv_bytes([data["profile"]]))
        reservations = [
            {k: v for k, v in r.items() if k not in ("folio_lines", "payments")}
            for r in data["reservations"]
        ]
        for section in _CSV_SECTIONS:
            rows = reservations if section == "reservations" else data.get(section, [])
            archive.writestr(f"{section}.csv", _csv_bytes(rows))
        for nested in ("folio_lines", "payments"):
            rows = [
                {"reservation_id": r["id"], **line}
                for r in data["reservations"]
                for line in r.get(nested, [])
            ]
            archive.writestr(f"{nested}.csv", _csv_bytes(rows))
    return buffer.getvalue()


ERASED_NAME = "Erased"
ERASED_TEXT = "[erased]"


def _needles(guest: Guest) -> tuple[list[str], list[str]]:
    """What identifies the guest in free text: (strong, weak). Strong ones (addresses,
    numbers, the full name) are searched in every row that may quote a guest; weak ones
    (a given name or a surname on its own) only in rows already tied to the guest, so
    that another Lee or Anna keeps their texts."""
    emails, phones = _contacts(guest)
    full = " ".join(p for p in (guest.given_name, guest.surname) if p)
    reverse = " ".join(p for p in (guest.surname, guest.given_name) if p)
    strong = sorted({*emails, *phones, full, reverse, f"{guest.surname}{guest.given_name}"})
    weak = sorted({guest.given_name, guest.surname} - {""})
    return [n for n in strong if len(n) >= 3], [n for n in weak if len(n) >= 2]


def _redact(value: Any, needles: list[str]) -> Any:
    """``value`` with every occurrence of a needle replaced (case-insensitive), through
    nested JSON."""
    if not needles:
        return value
    # Longest first: a full name goes whole rather than leaving its parts around.
    ordered = sorted(needles, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return pattern.sub(ERASED_TEXT, v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {pattern.sub(ERASED_TEXT, k): walk(x) for k, x in v.items()}
        return v

    return walk(value)


def _scrub(
    queryset: models.QuerySet,
    fields: tuple[str, ...],
    needles: tuple[list[str], list[str]],
    tied: models.Q,
) -> int:
    """Redact ``fields`` in the rows tied to the guest (strong and weak needles) and in
    any other row quoting a strong needle (JSON searched as its text). Returns how many
    rows changed."""
    strong, weak = needles
    model = queryset.model
    texts = {f"_erase_{name}": Cast(name, models.TextField()) for name in fields}
    quoting = models.Q(pk__in=[])
    for alias in texts:
        for needle in strong:
            quoting |= models.Q(**{f"{alias}__icontains": needle})
    tied_ids = set(queryset.filter(tied).values_list("pk", flat=True))
    candidates = queryset.annotate(**texts).filter(models.Q(pk__in=tied_ids) | quoting)
    changed = 0
    for row in candidates.only("pk", *fields):
        these = strong + weak if row.pk in tied_ids else strong
        updates = {name: _redact(getattr(row, name), these) for name in fields}
        if any(updates[name] != getattr(row, name) for name in fields):
            model._default_manager.filter(pk=row.pk).update(**updates)
            changed += 1
    return changed


@transaction.atomic
def guest_erase(*, guest: Guest, actor: Principal, reason: str = "") -> Guest:
    """Anonymise the guest: personal data goes (profile fields, contact data,
    addresses, preferences, external ids, company links, activity texts, values in the
    audit trail and merge snapshots); the profile row, its reservations, folios and
    statistics stay so revenue figures do not change. Consent events are kept without
    their source as proof of what the person had chosen. Administrators only. Logged."""
    actor.require_admin("erase a guest's personal data")
    guest = Guest.objects.select_for_update().get(pk=guest.pk)
    if guest.erased_at:
        raise Conflict("This guest was already erased.", code="already_erased")
    # What identifies the guest, read before the profile forgets it.
    needles = _needles(guest)
    message_ids = list(_messages_of(guest).values_list("pk", flat=True))
    reservation_ids = [
        str(pk)
        for pk in Reservation.objects.filter(
            models.Q(stays__guest=guest) | models.Q(guest=guest) | models.Q(booker_guest=guest)
        )
        .values_list("pk", flat=True)
        .distinct()
    ]
    case_ids = [str(pk) for pk in Case.objects.filter(guest=guest).values_list("pk", flat=True)]
    guest.name_prefix = guest.middle_name = guest.name_suffix = ""
    guest.given_name = ERASED_NAME
    guest.surname = f"#{guest.pk}"
    guest.birth_date = None
    guest.gender = ""
    guest.nationality = guest.language = ""
    guest.email = guest.phone = ""
    guest.id_document_type = guest.id_document_number = guest.id_document_country = ""
    guest.id_document_expiry = None
    guest.tags = []
    # Deliberately not through custom_clean: erasure must succeed even where a custom
    # field is required, and an empty set of values holds no personal data.
    guest.custom = {}
    guest.erased_at = timezone.now()
    guest.save()
    for related in (
        guest.emails,
        guest.phones,
        guest.addresses,
        guest.preferences,
        guest.external_ids,
    ):
        related.all().delete()
    CompanyContact.objects.filter(guest=guest).delete()
    GuestConsent.objects.filter(guest=guest).update(source="")
    DuplicateSuggestion.objects.filter(models.Q(guest_a=guest) | models.Q(guest_b=guest)).delete()
    Activity.objects.filter(object_api_name="guest", record_id=str(guest.pk)).update(
        subject="", body=""
    )
    RecordChange.objects.filter(object_api_name="guest", record_id=str(guest.pk)).update(
        old=None, new=None
    )
    MergeLog.objects.filter(models.Q(survivor=guest) | models.Q(merged_guest_id=guest.pk)).update(
        snapshot={}
    )
    _erase_quotes(
        guest=guest,
        needles=needles,
        message_ids=message_ids,
        reservation_ids=reservation_ids,
        case_ids=case_ids,
    )
    PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.ERASE, guest_id=guest.pk, user_id=actor.user_id, reason=reason
    )
    audit_log(
        action=AuditEvent.Action.PRIVACY_ERASE,
        actor=actor,
        object_api_name="guest",
        record_id=str(guest.pk),
        details={"reason": reason} if reason else None,
    )
    event_record(
        object_api_name="guest",
        record_id=guest.pk,
        action=RecordChange.Action.ERASE,
        user_id=actor.user_id,
    )
    return guest


def _erase_quotes(
    *,
    guest: Guest,
    needles: tuple[list[str], list[str]],
    message_ids: list[int],
    reservation_ids: list[str],
    case_ids: list[str],
) -> None:
    """Personal data copied out of the profile: the guest's cases (their texts go), the
    messages sent to them, webhook payloads, workflow run logs, the audit trail and
    activities of their reservations and cases, and any row quoting their address,
    number or full name (background jobs' reports too)."""
    from tenants.jobs.models import Job

    Case.objects.filter(pk__in=case_ids).update(subject=ERASED_TEXT, description="", custom={})
    RecordChange.objects.filter(object_api_name="case", record_id__in=case_ids).update(
        old=None, new=None
    )
    OutboxMessage.objects.filter(pk__in=message_ids, status=OutboxMessage.Status.QUEUED).update(
        status=OutboxMessage.Status.FAILED, error="The recipient was erased."
    )
    OutboxMessage.objects.filter(pk__in=message_ids).update(
        recipient=ERASED_TEXT, subject="", body="", headers={}
    )
    tied = (
        models.Q(object_api_name="guest", record_id=str(guest.pk))
        | models.Q(object_api_name="reservation", record_id__in=reservation_ids)
        | models.Q(object_api_name="case", record_id__in=case_ids)
    )
    payload_tied = models.Q(pk__in=[])
    for obj, ids in (
        ("guest", [str(guest.pk)]),
        ("reservation", reservation_ids),
        ("case", case_ids),
    ):
        for pk in ids:
            payload_tied |= models.Q(payload__data__object=obj) & (
                models.Q(payload__data__id=pk) | models.Q(payload__data__id=int(pk))
            )
    runs = WorkflowRun.objects.filter(tied)
    _scrub(Case.objects.all(), ("subject", "description"), needles, models.Q(pk__in=case_ids))
    _scrub(Activity.objects.all(), ("subject", "body"), needles, tied)
    _scrub(RecordChange.objects.all(), ("old", "new"), needles, tied)
    _scrub(OutboxMessage.objects.all(), ("recipient", "subject", "body"), needles, tied)
    _scrub(WebhookDelivery.objects.all(), ("payload", "last_error"), needles, payload_tied)
    _scrub(WorkflowRun.objects.all(), ("event", "error"), needles, tied)
    _scrub(WorkflowRunStep.objects.all(), ("detail", "error"), needles, models.Q(run__in=runs))
    _scrub(AuditEvent.objects.all(), ("details",), needles, tied)
    # Background jobs' reports (an import's rejected rows quote their values).
    _scrub(
        Job.objects.all(),
        ("payload", "result", "error", "checkpoint"),
        needles,
        models.Q(pk__in=[]),
    )
