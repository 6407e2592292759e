"""Data-subject requests: export everything about a guest; erase a guest."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from crm.models import (
    Activity,
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
from tenants.access.principal import Principal
from tenants.errors import Conflict

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
        "activities": _rows(
            Activity.objects.filter(object_api_name="guest", record_id=str(guest.pk)), ()
        ),
        "changes": _rows(
            RecordChange.objects.filter(object_api_name="guest", record_id=str(guest.pk)), ()
        ),
    }
    PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.EXPORT, guest_id=guest.pk, user_id=actor.user_id, reason=reason
    )
    return json_safe(data)


ERASED_NAME = "Erased"


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
    PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.ERASE, guest_id=guest.pk, user_id=actor.user_id, reason=reason
    )
    event_record(
        object_api_name="guest",
        record_id=guest.pk,
        action=RecordChange.Action.ERASE,
        user_id=actor.user_id,
    )
    return guest
