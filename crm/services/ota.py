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
        if value is None:
            raise ValidationError({path: f"{path} is required."})
    return value


def _first(obj: dict, key: str) -> dict:
    value = obj.get(key) or [{}]
    return value[0] if isinstance(value, list) and value else {}


def _date(value: Any, path: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationError({path: f"{value!r} is not a date (YYYY-MM-DD)."}) from None


def _guest_from_profile(profile: dict, *, user) -> Guest:
    customer = profile.get("Customer") or {}
    name = customer.get("PersonName") or {}
    unique = profile.get("UniqueID") or {}
    email = customer.get("Email")
    if isinstance(email, list):
        email = (email[0] or {}).get("value") if email and isinstance(email[0], dict) else email[0]
    phones = [
        str(t["PhoneNumber"])
        for t in customer.get("Telephone") or []
        if isinstance(t, dict) and t.get("PhoneNumber")
    ]
    fields: dict[str, Any] = {}
    for ota, ours in (
        ("NamePrefix", "name_prefix"),
        ("MiddleName", "middle_name"),
        ("NameSuffix", "name_suffix"),
    ):
        if name.get(ota):
            fields[ours] = name[ota]
    if customer.get("Language"):
        fields["language"] = customer["Language"]
    if customer.get("BirthDate"):
        fields["birth_date"] = _date(customer["BirthDate"], "Customer.BirthDate")
    if customer.get("Gender"):
        fields["gender"] = GENDER.get(str(customer["Gender"]).lower(), "")
    country = (customer.get("CitizenCountryName") or {}).get("Code")
    if country:
        fields["nationality"] = country

    guest = None
    source, ext_id = unique.get("ID_Context"), unique.get("ID")
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
            given_name=_need(name, "GivenName"),
            surname=_need(name, "Surname"),
            emails=[email] if email else [],
            phones=phones,
            external_ids=external,
            user=user,
            **fields,
        )
    updates = {k: v for k, v in fields.items() if getattr(guest, k) != v}
    for key in ("GivenName", "Surname"):
        if name.get(key):
            ours = "given_name" if key == "GivenName" else "surname"
            if getattr(guest, ours) != name[key]:
                updates[ours] = name[key]
    if updates:
        guest = guest_update(guest=guest, user=user, **updates)
    if email and not guest.emails.filter(email__iexact=str(email).strip()).exists():
        guest_email_add(guest=guest, email=email, user=user)
    for number in phones:
        try:
            with transaction.atomic():
                guest_phone_add(guest=guest, number=number, user=user)
        except ValidationError:
            pass  # already on the profile (the service compares normalised numbers)
    if external:
        from crm.services.guests import guest_external_id_add

        if not GuestExternalId.objects.filter(
            guest=guest, source=str(source).strip().upper(), external_id=str(ext_id).strip()
        ).exists():
            guest_external_id_add(
                guest=guest, source=str(source), external_id=str(ext_id), user=user
            )
    return guest


@transaction.atomic
def ota_reservation_apply(*, item: dict, user=None) -> dict:
    if not isinstance(item, dict):
        raise ValidationError({"HotelReservations": "Each reservation is an object."})
    confirmation = str(_need(item, "UniqueID.ID")).strip()
    stay = _first(item, "RoomStays")
    hotel_code = _need(stay, "BasicPropertyInfo.HotelCode")
    prop = Property.objects.filter(code=hotel_code).first()
    if prop is None:
        raise ValidationError({"BasicPropertyInfo.HotelCode": f"No hotel with code {hotel_code}."})
    status_raw = str(item.get("ResStatus") or "Reserved").strip().lower().replace(" ", "")
    status = STATUS.get(status_raw)
    if status is None:
        raise ValidationError({"ResStatus": f"{item.get('ResStatus')!r} is not a known status."})
    span = stay.get("TimeSpan") or {}
    arrival = _date(_need(span, "Start"), "TimeSpan.Start")
    departure = _date(_need(span, "End"), "TimeSpan.End")
    total = stay.get("Total") or {}
    try:
        amount = Decimal(str(total.get("AmountAfterTax", total.get("AmountBeforeTax", "0"))))
    except InvalidOperation:
        raise ValidationError({"Total.AmountAfterTax": "is not a number."}) from None
    currency = total.get("CurrencyCode") or prop.currency
    counts = {
        str(c.get("AgeQualifyingCode")): int(c.get("Count") or 0)
        for c in stay.get("GuestCounts") or []
        if isinstance(c, dict)
    }
    room_code = _first(stay, "RoomTypes").get("RoomTypeCode")
    rate_code = _first(stay, "RatePlans").get("RatePlanCode")
    room_type = (
        RoomType.objects.filter(property=prop, code=room_code).first() if room_code else None
    )
    rate_plan = (
        RatePlan.objects.filter(property=prop, code=rate_code).first() if rate_code else None
    )

    res_guests = [g for g in item.get("ResGuests") or [] if isinstance(g, dict)]
    if not res_guests:
        raise ValidationError({"ResGuests": "At least one guest is required."})
    primary_index = next(
        (i for i, g in enumerate(res_guests) if g.get("PrimaryIndicator") is True), 0
    )
    guests = [_guest_from_profile(_first(g, "Profiles"), user=user) for g in res_guests]
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
        "market_code": stay.get("MarketCode") or "",
        "source_of_business": stay.get("SourceOfBusiness") or "",
        "channel": (item.get("UniqueID") or {}).get("ID_Context") or "",
    }
    existing = Reservation.objects.filter(property=prop, confirmation_number=confirmation).first()
    if existing is None:
        reservation = reservation_create(
            property=prop,
            guest=primary,
            confirmation_number=confirmation,
            status=status,
            guests=guests,
            user=user,
            **values,
        )
        outcome = "created"
    else:
        reservation = reservation_update(
            reservation=existing, guest=primary, guests=guests, user=user, **values
        )
        if reservation.status != status:
            reservation = reservation_status_change(
                reservation=reservation, status=status, user=user
            )
        outcome = "updated"
    return {
        "status": outcome,
        "id": reservation.pk,
        "confirmation_number": confirmation,
        "hotel_code": hotel_code,
        "guest_ids": [g.pk for g in guests],
    }


def ota_reservations_push(*, payload: dict, user=None) -> list[dict]:
    if not isinstance(payload, dict) or not isinstance(payload.get("HotelReservations"), list):
        raise ValidationError({"HotelReservations": 'Send {"HotelReservations": [...]}.'})
    results = []
    for index, item in enumerate(payload["HotelReservations"]):
        try:
            results.append({"index": index, **ota_reservation_apply(item=item, user=user)})
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
