"""Reservation push in the OpenTravel shape (OTA_HotelResNotifRQ as JSON, OTA's element
and attribute names kept as keys).

Each ``HotelReservations[]`` item is applied in its own transaction: the reservation is
upserted by ``UniqueID.ID`` (the confirmation number) + ``HotelCode``, its guests'
profiles are matched by external id (``Profiles[].UniqueID`` → ``ID_Context`` + ``ID``),
then by e-mail, else created; statistics follow through the reservation services. One
result per reservation; one bad reservation does not stop the others.

Mapping (OTA → Atrium):
  ResStatus → status (Reserved/Book/Modify/Confirmed → reserved, Cancel/Cancelled →
    cancelled, In-house/CheckedIn → in_house, CheckedOut → checked_out, NoShow →
    no_show); a status change follows the allowed transitions
  UniqueID.ID → confirmation_number; RoomStays[0].BasicPropertyInfo.HotelCode → property
  RoomTypes[0].RoomTypeCode → room_type (by code at that hotel, optional)
  RatePlans[0].RatePlanCode → rate_plan (optional)
  GuestCounts[] AgeQualifyingCode 10 → adults, 8 → children
  TimeSpan.Start/End → arrival/departure; Total.AmountAfterTax + CurrencyCode → total
  MarketCode → market_code; SourceOfBusiness → source_of_business; POS/ID_Context of
    UniqueID → channel
  ResGuests[] (PrimaryIndicator marks the primary guest; the first one otherwise)
    Profiles[0].UniqueID → external id; Customer.PersonName GivenName/Surname/NamePrefix/
    MiddleName/NameSuffix; Email; Telephone[].PhoneNumber; Language; BirthDate;
    Gender (Male/Female/Unknown); CitizenCountryName.Code → nationality
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Guest, GuestEmail, GuestExternalId, Property, RatePlan, Reservation, RoomType
from crm.services.guests import guest_create, guest_email_add, guest_phone_add, guest_update
from crm.services.reservations import (
    reservation_create,
    reservation_status_change,
    reservation_update,
)
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

STATUS = {
    "reserved": "reserved",
    "book": "reserved",
    "modify": "reserved",
    "confirmed": "reserved",
    "commit": "reserved",
    "cancel": "cancelled",
    "cancelled": "cancelled",
    "in-house": "in_house",
    "inhouse": "in_house",
    "checkedin": "in_house",
    "checked-in": "in_house",
    "checkedout": "checked_out",
    "checked-out": "checked_out",
    "noshow": "no_show",
    "no-show": "no_show",
}
GENDER = {"male": "male", "female": "female", "unknown": ""}


def _need(obj: Any, path: str) -> Any:
    value = obj
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            raise ValidationError({path: f"{path} is required."})
    return value


def _text(value: Any, path: str, limit: int = 200) -> str:
    """A scalar as text (OTA sends codes as strings or numbers); objects and lists are
    the sender's mistake, named by their path."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError({path: f"{path} must be text."})
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationError({path: f"{path} is longer than {limit} characters."})
    return text


def _object(obj: Any, key: str, path: str | None = None) -> dict:
    """``obj[key]`` when it is an object (or absent: empty); anything else is a 400."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({path or key: f"{path or key} must be an object."})
    return value


def _first(obj: dict, key: str) -> dict:
    value = obj.get(key) or [{}]
    if isinstance(value, dict):
        return value
    if not isinstance(value, list):
        raise ValidationError({key: f"{key} must be a list of objects."})
    first = value[0] if value else {}
    if not isinstance(first, dict):
        raise ValidationError({f"{key}[0]": f"{key}[0] must be an object."})
    return first


def _count(value: Any, path: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValidationError({path: f"{path} must be a whole number."})
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError({path: f"{path} must be a whole number, not {value!r}."}) from None
    if not 0 <= number <= 999:
        raise ValidationError({path: f"{path} must be between 0 and 999."})
    return number


def _amount(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError({path: f"{path} must be a number."})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({path: f"{path} must be a number, not {value!r}."}) from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise ValidationError({path: f"{path} must be a finite amount below 10^12."})
    return amount


def _date(value: Any, path: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationError({path: f"{value!r} is not a date (YYYY-MM-DD)."}) from None


def _guest_from_profile(profile: dict, *, actor: Principal) -> Guest:
    customer = _object(profile, "Customer")
    name = _object(customer, "PersonName", "Customer.PersonName")
    unique = _object(profile, "UniqueID", "Profiles.UniqueID")
    email = customer.get("Email")
    if isinstance(email, list):
        email = (email[0] or {}).get("value") if email and isinstance(email[0], dict) else email[0]
    if email is not None:
        email = _text(email, "Customer.Email", 254)
    telephones = customer.get("Telephone") or []
    if not isinstance(telephones, list):
        raise ValidationError({"Customer.Telephone": "Customer.Telephone must be a list."})
    phones = [
        _text(t["PhoneNumber"], "Customer.Telephone.PhoneNumber", 40)
        for t in telephones
        if isinstance(t, dict) and t.get("PhoneNumber")
    ]
    fields: dict[str, Any] = {}
    for ota, ours in (
        ("NamePrefix", "name_prefix"),
        ("MiddleName", "middle_name"),
        ("NameSuffix", "name_suffix"),
    ):
        if name.get(ota):
            fields[ours] = _text(name[ota], f"PersonName.{ota}", 100)
    if customer.get("Language"):
        fields["language"] = _text(customer["Language"], "Customer.Language", 20)
    if customer.get("BirthDate"):
        fields["birth_date"] = _date(customer["BirthDate"], "Customer.BirthDate")
    if customer.get("Gender"):
        fields["gender"] = GENDER.get(_text(customer["Gender"], "Customer.Gender").lower(), "")
    country = _object(customer, "CitizenCountryName", "Customer.CitizenCountryName").get("Code")
    if country:
        fields["nationality"] = _text(country, "CitizenCountryName.Code", 2)

    guest = None
    source, ext_id = unique.get("ID_Context"), unique.get("ID")
    if source is not None:
        source = _text(source, "UniqueID.ID_Context", 40)
    if ext_id is not None:
        ext_id = _text(ext_id, "UniqueID.ID", 100)
    if source and ext_id:
        match = GuestExternalId.objects.filter(
            source=str(source).strip().upper(), property=None, external_id=str(ext_id).strip()
        ).first()
        guest = match.guest if match else None
    if guest is None and email:
        hit = GuestEmail.objects.filter(email__iexact=str(email).strip()).first()
        guest = hit.guest if hit else Guest.objects.filter(email__iexact=str(email).strip()).first()
    external = [{"source": source, "external_id": ext_id}] if source and ext_id else []
    if guest is None:
        return guest_create(
            given_name=_text(_need(name, "GivenName"), "PersonName.GivenName", 100),
            surname=_text(_need(name, "Surname"), "PersonName.Surname", 100),
            emails=[email] if email else [],
            phones=phones,
            external_ids=external,
            actor=actor,
            **fields,
        )
    updates = {k: v for k, v in fields.items() if getattr(guest, k) != v}
    for key in ("GivenName", "Surname"):
        if name.get(key):
            ours = "given_name" if key == "GivenName" else "surname"
            value = _text(name[key], f"PersonName.{key}", 100)
            if getattr(guest, ours) != value:
                updates[ours] = value
    if updates:
        guest = guest_update(guest=guest, actor=actor, **updates)
    if email and not guest.emails.filter(email__iexact=str(email).strip()).exists():
        guest_email_add(guest=guest, email=email, actor=actor)
    for number in phones:
        try:
            with transaction.atomic():
                guest_phone_add(guest=guest, number=number, actor=actor)
        except ValidationError:
            pass  # already on the profile (the service compares normalised numbers)
    if external:
        from crm.services.guests import guest_external_id_add

        if not GuestExternalId.objects.filter(
            guest=guest, source=str(source).strip().upper(), external_id=str(ext_id).strip()
        ).exists():
            guest_external_id_add(
                guest=guest, source=str(source), external_id=str(ext_id), actor=actor
            )
    return guest


@transaction.atomic
def ota_reservation_apply(*, item: dict, actor: Principal) -> dict:
    """One reservation with its guests, through the reservation and guest services
    (which ask the access policy: the reservation rights, the guest profile's field
    rights, the hotel within the principal's scope)."""
    if not isinstance(item, dict):
        raise ValidationError({"HotelReservations": "Each reservation is an object."})
    confirmation = _text(_need(item, "UniqueID.ID"), "UniqueID.ID", 60)
    stay = _first(item, "RoomStays")
    hotel_code = _text(_need(stay, "BasicPropertyInfo.HotelCode"), "HotelCode", 20)
    prop = Property.objects.filter(code=hotel_code).first()
    if prop is None:
        raise ValidationError({"BasicPropertyInfo.HotelCode": f"No hotel with code {hotel_code}."})
    # Before any guest profile is touched: a hotel outside the caller's scope stops here.
    actor.require("reservation", "create")
    actor.require_property(prop.pk, field="BasicPropertyInfo.HotelCode")
    status_raw = _text(item.get("ResStatus") or "Reserved", "ResStatus").lower().replace(" ", "")
    status = STATUS.get(status_raw)
    if status is None:
        raise ValidationError({"ResStatus": f"{item.get('ResStatus')!r} is not a known status."})
    span = _object(stay, "TimeSpan")
    arrival = _date(_need(span, "Start"), "TimeSpan.Start")
    departure = _date(_need(span, "End"), "TimeSpan.End")
    total = _object(stay, "Total")
    amount = _amount(
        total.get("AmountAfterTax", total.get("AmountBeforeTax", "0")), "Total.AmountAfterTax"
    )
    currency = _text(total.get("CurrencyCode") or prop.currency, "Total.CurrencyCode", 3)
    guest_counts = stay.get("GuestCounts") or []
    if not isinstance(guest_counts, list):
        raise ValidationError({"GuestCounts": "GuestCounts must be a list."})
    counts = {
        str(c.get("AgeQualifyingCode")): _count(c.get("Count"), "GuestCounts.Count")
        for c in guest_counts
        if isinstance(c, dict)
    }
    room_code = _first(stay, "RoomTypes").get("RoomTypeCode")
    rate_code = _first(stay, "RatePlans").get("RatePlanCode")
    room_code = _text(room_code, "RoomTypeCode", 20) if room_code else None
    rate_code = _text(rate_code, "RatePlanCode", 20) if rate_code else None
    room_type = (
        RoomType.objects.filter(property=prop, code=room_code).first() if room_code else None
    )
    rate_plan = (
        RatePlan.objects.filter(property=prop, code=rate_code).first() if rate_code else None
    )

    raw_guests = item.get("ResGuests") or []
    if not isinstance(raw_guests, list):
        raise ValidationError({"ResGuests": "ResGuests must be a list."})
    res_guests = [g for g in raw_guests if isinstance(g, dict)]
    if not res_guests:
        raise ValidationError({"ResGuests": "At least one guest is required."})
    primary_index = next(
        (i for i, g in enumerate(res_guests) if g.get("PrimaryIndicator") is True), 0
    )
    guests = [_guest_from_profile(_first(g, "Profiles"), actor=actor) for g in res_guests]
    primary = guests[primary_index]
    values: dict[str, Any] = {
        "arrival": arrival,
        "departure": departure,
        "total_amount": amount,
        "currency": currency,
        "adults": counts.get("10", 1) or 1,
        "children": counts.get("8", 0),
        "room_type": room_type,
        "rate_plan": rate_plan,
        "market_code": _text(stay.get("MarketCode") or "", "MarketCode", 20),
        "source_of_business": _text(stay.get("SourceOfBusiness") or "", "SourceOfBusiness", 40),
        "channel": _text(_object(item, "UniqueID").get("ID_Context") or "", "ID_Context", 40),
    }
    existing = Reservation.objects.filter(property=prop, confirmation_number=confirmation).first()
    if existing is None:
        reservation = reservation_create(
            property=prop,
            guest=primary,
            confirmation_number=confirmation,
            status=status,
            guests=guests,
            actor=actor,
            **values,
        )
        outcome = "created"
    else:
        reservation = reservation_update(
            reservation=existing, guest=primary, guests=guests, actor=actor, **values
        )
        if reservation.status != status:
            reservation = reservation_status_change(
                reservation=reservation, status=status, actor=actor
            )
        outcome = "updated"
    return {
        "status": outcome,
        "id": reservation.pk,
        "confirmation_number": confirmation,
        "hotel_code": hotel_code,
        "guest_ids": [g.pk for g in guests],
    }


def ota_reservations_push(*, payload: dict, actor: Principal) -> list[dict]:
    actor.require("reservation", "create")
    if not isinstance(payload, dict) or not isinstance(payload.get("HotelReservations"), list):
        raise ValidationError({"HotelReservations": 'Send {"HotelReservations": [...]}.'})
    results = []
    for index, item in enumerate(payload["HotelReservations"]):
        try:
            results.append({"index": index, **ota_reservation_apply(item=item, actor=actor)})
        except (ValidationError, ApplicationError) as exc:
            if isinstance(exc, ValidationError):
                errors = [
                    {"field": f, "code": "invalid", "message": m}
                    for f, ms in (
                        exc.message_dict.items()
                        if hasattr(exc, "error_dict")
                        else [(None, exc.messages)]
                    )
                    for m in ms
                ]
            else:
                errors = exc.as_errors()
            results.append({"index": index, "status": "error", "errors": errors})
    return results
