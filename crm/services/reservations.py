"""Writes of reservations, their staying guests, folio lines and payments. Every write
that can change a guest's statistics recomputes them in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import (
    Company,
    FolioLine,
    Guest,
    Payment,
    Property,
    RatePlan,
    RecordChange,
    Reservation,
    ReservationGuest,
    RoomType,
)
from crm.services.access import written
from crm.services.audit import changes_record, event_record, record_values
from crm.services.common import currency_clean, money_round
from crm.services.custom import custom_clean
from crm.services.guests import guest_statistics_refresh
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict

Status = Reservation.Status

# Which status may follow which. Check-in can be undone (in house -> reserved) and a
# cancelled or no-show booking can be reinstated; a checked-out stay is final.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RESERVED: frozenset({Status.IN_HOUSE, Status.CANCELLED, Status.NO_SHOW}),
    Status.IN_HOUSE: frozenset({Status.CHECKED_OUT, Status.RESERVED}),
    Status.CANCELLED: frozenset({Status.RESERVED}),
    Status.NO_SHOW: frozenset({Status.RESERVED}),
    Status.CHECKED_OUT: frozenset(),
}

RESERVATION_FIELDS = (
    "confirmation_number",
    "channel",
    "market_code",
    "source_of_business",
    "arrival",
    "departure",
    "room_type",
    "rate_plan",
    "adults",
    "children",
    "total_amount",
    "currency",
    "booker_guest",
    "booker_company",
)
AUDITED = (
    *RESERVATION_FIELDS,
    "guest",
    "status",
    "cancelled_at",
    "cancellation_reason",
    "confirmed_at",
    "custom",
)


class TransitionRefused(ApplicationError):
    default_code = "status_transition_refused"


def _audit_values(reservation: Reservation) -> dict:
    values = {}
    for name in AUDITED:
        value = getattr(reservation, name)
        if hasattr(value, "pk"):
            value = value.pk
        values[name] = value
    return values


def _reservation_validate(reservation: Reservation) -> None:
    reservation.confirmation_number = (reservation.confirmation_number or "").strip()
    if not reservation.confirmation_number:
        raise ValidationError({"confirmation_number": "A confirmation number is required."})
    reservation.currency = currency_clean(reservation.currency or reservation.property.currency)
    if (
        reservation.arrival
        and reservation.departure
        and reservation.departure <= reservation.arrival
    ):
        raise ValidationError({"departure": "Departure must be after arrival."})
    for name in ("room_type", "rate_plan"):
        value = getattr(reservation, name)
        if value is not None and value.property_id != reservation.property_id:
            raise ValidationError(
                {name: f"This {name.replace('_', ' ')} belongs to another property."}
            )
    if reservation.total_amount is None or Decimal(reservation.total_amount) < 0:
        raise ValidationError({"total_amount": "The total amount must be zero or more."})
    reservation.total_amount = money_round(reservation.total_amount, reservation.currency)
    if reservation.adults < 1:
        raise ValidationError({"adults": "A reservation has at least one adult."})
    if (
        Reservation.objects.filter(
            property_id=reservation.property_id,
            confirmation_number=reservation.confirmation_number,
        )
        .exclude(pk=reservation.pk)
        .exists()
    ):
        raise Conflict(
            f"Confirmation number {reservation.confirmation_number} is already used at this "
            "property.",
            code="confirmation_number_taken",
            field="confirmation_number",
        )
    reservation.full_clean(
        exclude=[
            "custom",
            "property",
            "guest",
            "room_type",
            "rate_plan",
            "booker_guest",
            "booker_company",
            "total_amount",
        ],
        validate_unique=False,
        validate_constraints=False,
    )


def _stay_guests_set(reservation: Reservation, guests: Sequence[Guest]) -> set[int]:
    """Make ``guests`` (primary first) the staying guests; returns every guest id
    touched, old and new."""
    wanted = [reservation.guest_id] + [g.pk for g in guests if g.pk != reservation.guest_id]
    wanted = list(dict.fromkeys(wanted))
    existing = set(reservation.stays.values_list("guest_id", flat=True))
    reservation.stays.exclude(guest_id__in=wanted).delete()
    reservation.stays.update(is_primary=False)
    ReservationGuest.objects.bulk_create(
        ReservationGuest(reservation=reservation, guest_id=gid)
        for gid in wanted
        if gid not in existing
    )
    reservation.stays.filter(guest_id=reservation.guest_id).update(is_primary=True)
    return existing | set(wanted)


@transaction.atomic
def reservation_create(
    *,
    property: Property,
    guest: Guest,
    confirmation_number: str,
    arrival: date,
    departure: date,
    total_amount: Decimal,
    currency: str = "",
    status: str = Status.RESERVED,
    guests: Sequence[Guest] = (),
    room_type: RoomType | None = None,
    rate_plan: RatePlan | None = None,
    booker_guest: Guest | None = None,
    booker_company: Company | None = None,
    custom: dict | None = None,
    actor: Principal,
    **fields,
) -> Reservation:
    """Record a reservation as the PMS/CRS sends it (it may arrive in any status)."""
    actor.require("reservation", "create")
    actor.require_property(property.pk)
    given = {
        "property": property,
        "guest": guest,
        "confirmation_number": confirmation_number,
        "arrival": arrival,
        "departure": departure,
        "total_amount": total_amount,
        "currency": currency,
        "status": status,
        "guests": guests,
        "room_type": room_type,
        "rate_plan": rate_plan,
        "booker_guest": booker_guest,
        "booker_company": booker_company,
    }
    actor.require_editable(
        "reservation",
        written([k for k, v in given.items() if v not in (None, "", ())], custom, *fields),
    )
    unknown = sorted(set(fields) - set(RESERVATION_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a reservation field you can set." for n in unknown})
    if status not in Status.values:
        raise ValidationError({"status": f"{status} is not a reservation status."})
    reservation = Reservation(
        property=property,
        guest=guest,
        confirmation_number=confirmation_number,
        arrival=arrival,
        departure=departure,
        total_amount=total_amount,
        currency=currency or property.currency,
        status=status,
        room_type=room_type,
        rate_plan=rate_plan,
        booker_guest=booker_guest,
        booker_company=booker_company,
        cancelled_at=timezone.now() if status == Status.CANCELLED else None,
        **fields,
    )
    reservation.custom = custom_clean(object_api_name="reservation", values=custom or {})
    _reservation_validate(reservation)
    reservation.save()
    touched = _stay_guests_set(reservation, guests)
    guest_statistics_refresh(guest_ids=touched)
    changes_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        old={},
        new=_audit_values(reservation),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return reservation


@transaction.atomic
def reservation_update(
    *,
    reservation: Reservation,
    guest: Guest | None = None,
    guests: Sequence[Guest] | None = None,
    custom: dict | None = None,
    actor: Principal,
    **fields,
) -> Reservation:
    """Modify a reservation (dates, room, amount, guests...). Status has its own
    service, so that transitions are always checked."""
    actor.require("reservation", "edit")
    actor.require_property(reservation.property_id)
    actor.require_editable(
        "reservation",
        written(
            fields,
            custom,
            "guest" if guest is not None else "",
            "guests" if guests is not None else "",
        ),
    )
    unknown = sorted(set(fields) - set(RESERVATION_FIELDS))
    if "status" in fields or "status" in unknown:
        raise ValidationError({"status": "Change the status with reservation_status_change."})
    if unknown:
        raise ValidationError({n: f"{n} is not a reservation field you can set." for n in unknown})
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    old = _audit_values(reservation)
    touched = set(reservation.stays.values_list("guest_id", flat=True))
    for name, value in fields.items():
        setattr(reservation, name, value)
    if guest is not None:
        reservation.guest = guest
    if custom is not None:
        reservation.custom = custom_clean(
            object_api_name="reservation",
            values=custom,
            existing=reservation.custom,
            partial=True,
            record_id=reservation.pk,
        )
    _reservation_validate(reservation)
    reservation.save()
    if guests is not None:
        current = list(guests)
    else:
        # A new primary guest replaces the old one; companions stay.
        current = [
            link.guest
            for link in reservation.stays.select_related("guest")
            if link.guest_id != old["guest"]
        ]
    touched |= _stay_guests_set(reservation, current)
    guest_statistics_refresh(guest_ids=touched)
    changes_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        old=old,
        new=_audit_values(reservation),
        user_id=actor.user_id,
    )
    return reservation


@transaction.atomic
def reservation_status_change(
    *,
    reservation: Reservation,
    status: str,
    actor: Principal,
    at: datetime | None = None,
    reason: str = "",
) -> Reservation:
    """Move the booking to ``status`` if the transition is allowed (guest statistics
    recomputed, audited, announced to webhooks and workflows). ``reason`` is kept with a
    cancellation; reinstating a booking clears it (the audit trail keeps it)."""
    actor.require("reservation", "edit")
    actor.require_property(reservation.property_id)
    actor.require_editable("reservation", ["status"])
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    current = reservation.status
    if status not in Status.values:
        raise ValidationError({"status": f"{status} is not a reservation status."})
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": "At most 200 characters."})
    if reason and status != Status.CANCELLED:
        raise ValidationError({"reason": "A reason goes with a cancellation only."})
    if status not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none: it is final"
        raise TransitionRefused(
            f"A reservation cannot go from {current} to {status} (allowed from {current}: "
            f"{allowed}).",
            field="status",
        )
    old = _audit_values(reservation)
    reservation.status = status
    if status == Status.CANCELLED:
        reservation.cancelled_at = at or timezone.now()
        reservation.cancellation_reason = reason
    elif current == Status.CANCELLED:
        reservation.cancelled_at = None
        reservation.cancellation_reason = ""
    reservation.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated"])
    guest_statistics_refresh(guest_ids=reservation.stays.values_list("guest_id", flat=True))
    changes_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        old=old,
        new=_audit_values(reservation),
        user_id=actor.user_id,
    )
    return reservation


def reservation_cancel(
    *, reservation: Reservation, actor: Principal, reason: str = ""
) -> Reservation:
    return reservation_status_change(
        reservation=reservation, status=Status.CANCELLED, actor=actor, reason=reason
    )


@transaction.atomic
def reservation_confirm(
    *, reservation: Reservation, actor: Principal, at: datetime | None = None
) -> Reservation:
    """Record that the booking was confirmed to the guest (``confirmed_at``), once and
    only while it is reserved; audited and announced like a field change, so a
    workflow watching ``confirmed_at`` runs (a confirmation e-mail, a task)."""
    actor.require("reservation", "edit")
    actor.require_property(reservation.property_id)
    actor.require_editable("reservation", ["confirmed_at"])
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != Status.RESERVED:
        raise TransitionRefused(
            f"Only a reserved booking can be confirmed (this one is {reservation.status}).",
            field="status",
        )
    if reservation.confirmed_at is not None:
        raise Conflict("This reservation is already confirmed.", code="already_confirmed")
    old = _audit_values(reservation)
    reservation.confirmed_at = at or timezone.now()
    reservation.save(update_fields=["confirmed_at", "updated"])
    changes_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        old=old,
        new=_audit_values(reservation),
        user_id=actor.user_id,
    )
    return reservation


@transaction.atomic
def folio_line_add(
    *,
    reservation: Reservation,
    kind: str,
    amount: Decimal,
    posted_on: date,
    currency: str = "",
    description: str = "",
    actor: Principal,
) -> FolioLine:
    actor.require("reservation", "edit")
    actor.require_property(reservation.property_id)
    actor.require_editable("reservation", ["folio_lines"])
    currency = currency_clean(currency or reservation.currency)
    line = FolioLine(
        reservation=reservation,
        kind=kind,
        amount=money_round(amount, currency),
        currency=currency,
        posted_on=posted_on,
        description=description,
    )
    line.full_clean(exclude=["reservation"])
    line.save()
    event_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        action=RecordChange.Action.UPDATE,
        field="folio_lines",
        new=record_values(line, ["kind", "amount", "currency", "posted_on", "description"]),
        user_id=actor.user_id,
    )
    return line


@transaction.atomic
def payment_add(
    *,
    reservation: Reservation,
    method: str,
    amount: Decimal,
    currency: str = "",
    reference: str = "",
    received_at: datetime | None = None,
    actor: Principal,
) -> Payment:
    actor.require("reservation", "edit")
    actor.require_property(reservation.property_id)
    actor.require_editable("reservation", ["payments"])
    currency = currency_clean(currency or reservation.currency)
    payment = Payment(
        reservation=reservation,
        method=method,
        amount=money_round(amount, currency),
        currency=currency,
        reference=reference,
        received_at=received_at or timezone.now(),
    )
    payment.full_clean(exclude=["reservation"])
    payment.save()
    event_record(
        object_api_name="reservation",
        record_id=reservation.pk,
        action=RecordChange.Action.UPDATE,
        field="payments",
        new=record_values(payment, ["method", "amount", "currency", "reference"]),
        user_id=actor.user_id,
    )
    return payment
