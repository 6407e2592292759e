"""Factories for crm tests: real rows through the services."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from crm.models import Guest, Property, Reservation
from crm.services.guests import guest_create
from crm.services.properties import property_create
from crm.services.reservations import reservation_create
from tests.principals import SYSTEM

_seq = itertools.count(1)


def make_property(*, code: str | None = None, currency: str = "EUR", **fields) -> Property:
    n = next(_seq)
    return property_create(
        code=code or f"P{n:05d}",
        name=fields.pop("name", f"Hotel {n}"),
        country=fields.pop("country", "PT"),
        currency=currency,
        timezone=fields.pop("timezone", "Europe/Lisbon"),
        actor=fields.pop("actor", SYSTEM),
        **fields,
    )


def make_guest(**fields) -> Guest:
    n = next(_seq)
    return guest_create(
        given_name=fields.pop("given_name", "Ana"),
        surname=fields.pop("surname", f"Silva{n}"),
        actor=fields.pop("actor", SYSTEM),
        **fields,
    )


def make_reservation(
    *,
    property: Property,
    guest: Guest,
    arrival: date = date(2026, 3, 1),
    nights: int = 2,
    total: str = "300.00",
    status: str = Reservation.Status.RESERVED,
    **fields,
) -> Reservation:
    from datetime import timedelta

    return reservation_create(
        property=property,
        guest=guest,
        confirmation_number=fields.pop("confirmation_number", f"C{next(_seq):07d}"),
        arrival=arrival,
        departure=arrival + timedelta(days=nights),
        total_amount=Decimal(total),
        status=status,
        actor=fields.pop("actor", SYSTEM),
        **fields,
    )
