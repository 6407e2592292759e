"""Writes of guest profiles: the profile, its contact data, preferences, consents,
external ids, and the maintained statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.models import (
    Guest,
    GuestAddress,
    GuestConsent,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    GuestPreference,
    Property,
    RecordChange,
)
from crm.services.access import written
from crm.services.audit import changes_record, event_record, record_values
from crm.services.common import (
    country_clean,
    email_clean,
    language_clean,
    phone_clean,
    tenant_base_currency,
)
from crm.services.custom import custom_clean
from tenants.access.principal import Principal
from tenants.errors import Conflict

GUEST_FIELDS = (
    "name_prefix",
    "given_name",
    "middle_name",
    "surname",
    "name_suffix",
    "birth_date",
    "gender",
    "nationality",
    "language",
    "id_document_type",
    "id_document_number",
    "id_document_expiry",
    "id_document_country",
    "customer_type",
    "vip_level",
    "tags",
)
# Statuses whose reservations count as stays in the guest statistics.
STAY_STATUSES = ("in_house", "checked_out")


def _reject_unknown(fields: dict) -> None:
    unknown = sorted(set(fields) - set(GUEST_FIELDS))
    if unknown:
        raise ValidationError(
            {name: f"{name} is not a guest field you can set." for name in unknown}
        )


def guest_fields_clean(fields: dict) -> dict:
    """Normalise the plain profile fields (shared with the import)."""
    out = dict(fields)
    for name in ("name_prefix", "given_name", "middle_name", "surname", "name_suffix"):
        if name in out:
            out[name] = (out[name] or "").strip()
    if "nationality" in out:
        out["nationality"] = country_clean(out["nationality"], field="nationality")
    if "id_document_country" in out:
        out["id_document_country"] = country_clean(
            out["id_document_country"], field="id_document_country"
        )
    if "language" in out:
        out["language"] = language_clean(out["language"])
    if "tags" in out:
        tags = out["tags"] or []
        if isinstance(tags, str):
            tags = tags.split(",")
        out["tags"] = sorted({t.strip().lower() for t in tags if t and t.strip()})
    if "id_document_number" in out:
        out["id_document_number"] = (out["id_document_number"] or "").strip().upper()
    if out.get("birth_date") and out["birth_date"] > date.today():
        raise ValidationError({"birth_date": "A birth date cannot be in the future."})
    return out


def _guest_validate(guest: Guest) -> None:
    if not guest.given_name and not guest.surname:
        raise ValidationError({"surname": "A guest needs a surname or a given name."})
    if guest.id_document_number and not guest.id_document_type:
        raise ValidationError({"id_document_type": "Say which document the number is from."})
    guest.full_clean(exclude=["custom", "email", "phone", "given_name", "surname"])


@transaction.atomic
def guest_create(
    *,
    given_name: str,
    surname: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    addresses: Sequence[dict] = (),
    external_ids: Sequence[dict] = (),
    custom: dict | None = None,
    actor: Principal,
    **fields,
) -> Guest:
    """Create a profile. The first e-mail and phone are the primary ones."""
    actor.require("guest", "create")
    _reject_unknown(fields)
    actor.require_editable(
        "guest",
        written(
            {"given_name", "surname", *fields},
            custom,
            "emails" if emails else "",
            "phones" if phones else "",
            "addresses" if addresses else "",
            "external_ids" if external_ids else "",
        ),
    )
    fields = guest_fields_clean({"given_name": given_name, "surname": surname, **fields})
    guest = Guest(**fields)
    guest.custom = custom_clean(object_api_name="guest", values=custom or {})
    _guest_validate(guest)
    region = guest.nationality or None
    by_folded: dict[str, str] = {}
    for raw in emails:
        if raw:
            address = email_clean(raw, field="emails")
            by_folded.setdefault(address.lower(), address)
    clean_emails = list(by_folded.values())
    clean_phones = list(
        dict.fromkeys(phone_clean(p, region=region, field="phones") for p in phones if p)
    )
    guest.email = clean_emails[0] if clean_emails else ""
    guest.phone = clean_phones[0] if clean_phones else ""
    guest.save()
    GuestEmail.objects.bulk_create(
        GuestEmail(guest=guest, email=e, is_primary=i == 0) for i, e in enumerate(clean_emails)
    )
    GuestPhone.objects.bulk_create(
        GuestPhone(guest=guest, number=p, is_primary=i == 0) for i, p in enumerate(clean_phones)
    )
    for index, address_fields in enumerate(addresses):
        _address_create(guest=guest, primary=index == 0, **address_fields)
    for ext in external_ids:
        _external_id_create(guest=guest, **ext)
    changes_record(
        object_api_name="guest",
        record_id=guest.pk,
        old={},
        new={**record_values(guest, fields), "emails": clean_emails, "phones": clean_phones},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return guest


@transaction.atomic
def guest_update(*, guest: Guest, custom: dict | None = None, actor: Principal, **fields) -> Guest:
    """Change profile fields (only those given) and, partially, custom values."""
    _guest_edit_require(actor, guest, written(fields, custom))
    _reject_unknown(fields)
    fields = guest_fields_clean(fields)
    watched = [*fields, "custom"]
    old = record_values(guest, watched)
    for name, value in fields.items():
        setattr(guest, name, value)
    if custom is not None:
        guest.custom = custom_clean(
            object_api_name="guest",
            values=custom,
            existing=guest.custom,
            partial=True,
            record_id=guest.pk,
        )
    _guest_validate(guest)
    guest.save()
    changes_record(
        object_api_name="guest",
        record_id=guest.pk,
        old=old,
        new=record_values(guest, watched),
        user_id=actor.user_id,
    )
    return guest


def _guest_edit_require(actor: Principal, guest: Guest, fields: Iterable[str]) -> None:
    """The edit right, each written field's edit level, and the guest within the
    principal's hotels (a hotel-scoped user reaches guests staying at their hotels)."""
    actor.require("guest", "edit")
    actor.require_editable("guest", fields)
    actor.require_record_in_scope("guest", Guest.objects.all(), guest.pk)


def _child_event(guest: Guest, field: str, *, actor: Principal, old=None, new=None) -> None:
    event_record(
        object_api_name="guest",
        record_id=guest.pk,
        action=RecordChange.Action.UPDATE,
        field=field,
        old=old,
        new=new,
        user_id=actor.user_id,
    )


def _sync_primary(guest: Guest) -> None:
    """Copy the primary e-mail and phone onto the profile row."""
    primary_email = guest.emails.filter(is_primary=True).values_list("email", flat=True).first()
    primary_phone = guest.phones.filter(is_primary=True).values_list("number", flat=True).first()
    guest.email = primary_email or ""
    guest.phone = primary_phone or ""
    Guest.objects.filter(pk=guest.pk).update(email=guest.email, phone=guest.phone)


@transaction.atomic
def guest_email_add(
    *, guest: Guest, email: str, kind: str = "personal", primary: bool = False, actor: Principal
) -> GuestEmail:
    _guest_edit_require(actor, guest, ["emails"])
    address = email_clean(email)
    if not address:
        raise ValidationError({"email": "An e-mail address is required."})
    if guest.emails.filter(email__iexact=address).exists():
        raise ValidationError({"email": f"{address} is already on this profile."})
    primary = primary or not guest.emails.exists()
    if primary:
        guest.emails.filter(is_primary=True).update(is_primary=False)
    row = GuestEmail.objects.create(guest=guest, email=address, kind=kind, is_primary=primary)
    _sync_primary(guest)
    _child_event(guest, "emails", new=address, actor=actor)
    return row


@transaction.atomic
def guest_email_remove(*, guest_email: GuestEmail, actor: Principal) -> None:
    guest = guest_email.guest
    _guest_edit_require(actor, guest, ["emails"])
    was_primary = guest_email.is_primary
    guest_email.delete()
    if was_primary:
        following = guest.emails.order_by("pk").first()
        if following:
            GuestEmail.objects.filter(pk=following.pk).update(is_primary=True)
    _sync_primary(guest)
    _child_event(guest, "emails", old=guest_email.email, actor=actor)


@transaction.atomic
def guest_email_set_primary(*, guest_email: GuestEmail, actor: Principal) -> None:
    guest = guest_email.guest
    _guest_edit_require(actor, guest, ["emails"])
    old = guest.email
    guest.emails.filter(is_primary=True).update(is_primary=False)
    GuestEmail.objects.filter(pk=guest_email.pk).update(is_primary=True)
    _sync_primary(guest)
    _child_event(guest, "email", old=old, new=guest.email, actor=actor)


@transaction.atomic
def guest_phone_add(
    *, guest: Guest, number: str, kind: str = "mobile", primary: bool = False, actor: Principal
) -> GuestPhone:
    _guest_edit_require(actor, guest, ["phones"])
    e164 = phone_clean(number, region=guest.nationality or None)
    if not e164:
        raise ValidationError({"phone": "A phone number is required."})
    if guest.phones.filter(number=e164).exists():
        raise ValidationError({"phone": f"{e164} is already on this profile."})
    primary = primary or not guest.phones.exists()
    if primary:
        guest.phones.filter(is_primary=True).update(is_primary=False)
    row = GuestPhone.objects.create(guest=guest, number=e164, kind=kind, is_primary=primary)
    _sync_primary(guest)
    _child_event(guest, "phones", new=e164, actor=actor)
    return row


@transaction.atomic
def guest_phone_remove(*, guest_phone: GuestPhone, actor: Principal) -> None:
    guest = guest_phone.guest
    _guest_edit_require(actor, guest, ["phones"])
    was_primary = guest_phone.is_primary
    guest_phone.delete()
    if was_primary:
        following = guest.phones.order_by("pk").first()
        if following:
            GuestPhone.objects.filter(pk=following.pk).update(is_primary=True)
    _sync_primary(guest)
    _child_event(guest, "phones", old=guest_phone.number, actor=actor)


@transaction.atomic
def guest_phone_set_primary(*, guest_phone: GuestPhone, actor: Principal) -> None:
    guest = guest_phone.guest
    _guest_edit_require(actor, guest, ["phones"])
    old = guest.phone
    guest.phones.filter(is_primary=True).update(is_primary=False)
    GuestPhone.objects.filter(pk=guest_phone.pk).update(is_primary=True)
    _sync_primary(guest)
    _child_event(guest, "phone", old=old, new=guest.phone, actor=actor)


def _address_create(*, guest: Guest, primary: bool = False, **fields) -> GuestAddress:
    allowed = {"kind", "line1", "line2", "city", "region", "postal_code", "country"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError({"addresses": f"Unknown address fields: {', '.join(unknown)}."})
    if any(not isinstance(v, str) for v in fields.values()):
        raise ValidationError({"addresses": "Address parts are text."})
    fields["country"] = country_clean(fields.get("country", ""), field="addresses")
    if primary:
        guest.addresses.filter(is_primary=True).update(is_primary=False)
    address = GuestAddress(guest=guest, is_primary=primary, **fields)
    address.full_clean()
    address.save()
    return address


@transaction.atomic
def guest_address_add(
    *, guest: Guest, primary: bool = False, actor: Principal, **fields
) -> GuestAddress:
    _guest_edit_require(actor, guest, ["addresses"])
    primary = primary or not guest.addresses.exists()
    address = _address_create(guest=guest, primary=primary, **fields)
    _child_event(guest, "addresses", new={**fields, "is_primary": primary}, actor=actor)
    return address


@transaction.atomic
def guest_preference_set(
    *,
    guest: Guest,
    group: str,
    code: str,
    property: Property | None = None,
    note: str = "",
    actor: Principal,
) -> GuestPreference:
    _guest_edit_require(actor, guest, ["preferences"])
    group, code = group.strip().upper(), code.strip().upper()
    if not group or not code:
        raise ValidationError({"preference": "A preference needs a group and a code."})
    problems = {
        name: f"At most {limit} characters."
        for name, value, limit in (("group", group, 40), ("code", code, 40), ("note", note, 200))
        if len(value) > limit
    }
    if problems:
        raise ValidationError(problems)
    pref, created = GuestPreference.objects.update_or_create(
        guest=guest, property=property, group=group, code=code, defaults={"note": note}
    )
    if created:
        _child_event(
            guest,
            "preferences",
            new={"group": group, "code": code, "property": getattr(property, "code", None)},
            actor=actor,
        )
    return pref


@transaction.atomic
def guest_preference_clear(*, preference: GuestPreference, actor: Principal) -> None:
    """Remove one preference from the profile (audited with what it was)."""
    guest = preference.guest
    _guest_edit_require(actor, guest, ["preferences"])
    old = {
        "group": preference.group,
        "code": preference.code,
        "property": getattr(preference.property, "code", None),
    }
    preference.delete()
    _child_event(guest, "preferences", old=old, actor=actor)


@transaction.atomic
def guest_consent_record(
    *,
    guest: Guest,
    channel: str,
    purpose: str,
    opted_in: bool,
    source: str = "",
    recorded_at: datetime | None = None,
    actor: Principal,
) -> GuestConsent:
    _guest_edit_require(actor, guest, ["consents"])
    consent = GuestConsent(
        guest=guest,
        channel=channel,
        purpose=purpose,
        opted_in=opted_in,
        source=source,
        recorded_at=recorded_at or timezone.now(),
        recorded_by_id=actor.user_id,
    )
    consent.full_clean()
    consent.save()
    _child_event(
        guest,
        f"consent:{channel}:{purpose}",
        new={"opted_in": opted_in, "source": source},
        actor=actor,
    )
    return consent


def _external_id_create(
    *, guest: Guest, source: str, external_id: str, property: Property | None = None
) -> GuestExternalId:
    if not isinstance(source, str) or not isinstance(external_id, str | int):
        raise ValidationError({"external_ids": "An external id's source and id are text."})
    source, external_id = source.strip().upper(), str(external_id).strip()
    if not source or not external_id:
        raise ValidationError({"external_ids": "An external id needs a source and an id."})
    owner = (
        GuestExternalId.objects.filter(source=source, property=property, external_id=external_id)
        .values_list("guest_id", flat=True)
        .first()
    )
    if owner is not None and owner != guest.pk:
        raise Conflict(
            f"{source} id {external_id} already belongs to guest {owner}.",
            code="external_id_taken",
            field="external_ids",
        )
    row, _ = GuestExternalId.objects.get_or_create(
        guest=guest, source=source, property=property, external_id=external_id
    )
    return row


@transaction.atomic
def guest_external_id_add(
    *,
    guest: Guest,
    source: str,
    external_id: str,
    property: Property | None = None,
    actor: Principal,
) -> GuestExternalId:
    _guest_edit_require(actor, guest, ["external_ids"])
    try:
        with transaction.atomic():
            row = _external_id_create(
                guest=guest, source=source, external_id=external_id, property=property
            )
    except IntegrityError as exc:  # lost a race with a concurrent writer
        raise Conflict(
            f"{source} id {external_id} already belongs to another guest.",
            code="external_id_taken",
            field="external_ids",
        ) from exc
    _child_event(
        guest,
        "external_ids",
        new={"source": row.source, "id": row.external_id, "property": row.property_id},
        actor=actor,
    )
    return row


def guest_statistics_refresh(*, guest_ids: Iterable[int]) -> None:
    """Recompute stays, nights, revenue and first/last stay from the reservations, so
    the figures stay exact whatever changed. A stay is a reservation in house or checked
    out that the guest stays on; revenue counts only where the guest is the primary
    guest (so a shared room is not counted twice), converted to the tenant's base
    currency with the latest ExchangeRate on or before arrival. A reservation in another
    currency without a known rate adds no revenue (its stay and nights still count)."""
    ids = sorted({int(i) for i in guest_ids if i is not None})
    if not ids:
        return
    base = tenant_base_currency()
    from babel.numbers import get_currency_precision

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH s AS (
                SELECT rg.guest_id,
                       count(*) AS stays,
                       sum(r.departure - r.arrival) AS nights,
                       min(r.arrival) AS first_stay,
                       max(r.arrival) AS last_stay,
                       sum(CASE WHEN r.guest_id = rg.guest_id THEN
                           r.total_amount * CASE WHEN r.currency = %(base)s THEN 1 ELSE (
                               SELECT e.rate FROM crm_exchangerate e
                               WHERE e.currency = r.currency AND e.base_currency = %(base)s
                                 AND e.valid_from <= r.arrival
                               ORDER BY e.valid_from DESC LIMIT 1) END
                       END) AS revenue
                FROM crm_reservationguest rg
                JOIN crm_reservation r ON r.id = rg.reservation_id
                WHERE rg.guest_id = ANY(%(ids)s) AND r.status = ANY(%(statuses)s)
                GROUP BY rg.guest_id
            )
            UPDATE crm_guest g SET
                stays = coalesce(s.stays, 0),
                nights = coalesce(s.nights, 0),
                revenue = round(coalesce(s.revenue, 0), %(precision)s),
                first_stay = s.first_stay,
                last_stay = s.last_stay
            FROM crm_guest g2 LEFT JOIN s ON s.guest_id = g2.id
            WHERE g.id = g2.id AND g2.id = ANY(%(ids)s)
            """,
            {
                "ids": ids,
                "base": base,
                "statuses": list(STAY_STATUSES),
                "precision": min(get_currency_precision(base), 2),
            },
        )
