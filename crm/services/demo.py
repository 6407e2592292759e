"""Deterministic sample data for the demo hotel group of ``make run``."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from crm.models import Guest, Property, Reservation

DEMO_PROPERTIES = [
    {
        "code": "HBRLIS",
        "name": "Harbour Lisbon",
        "country": "PT",
        "city": "Lisbon",
        "timezone": "Europe/Lisbon",
        "currency": "EUR",
        "star_rating": 4,
        "room_count": 180,
    },
    {
        "code": "HBRHKG",
        "name": "Harbour Hong Kong",
        "country": "HK",
        "city": "Hong Kong",
        "timezone": "Asia/Hong_Kong",
        "currency": "HKD",
        "star_rating": 5,
        "room_count": 320,
    },
]
CHANNELS = ["direct", "booking_engine", "ota", "gds", "call_centre", "walk_in"]
LOCALES = {
    "PT": "pt_PT",
    "HK": "zh_TW",
    "GB": "en_GB",
    "DE": "de_DE",
    "FR": "fr_FR",
    "CN": "zh_CN",
    "JP": "ja_JP",
    "US": "en_US",
}
# Rough nightly rate per property currency, to keep revenue figures plausible.
NIGHTLY = {"EUR": Decimal("140"), "HKD": Decimal("1600")}


@transaction.atomic
def demo_data_generate(*, guests: int = 300, seed: int = 2026, today: date | None = None) -> dict:
    """Create two properties, ``guests`` guest profiles and their stays. Does nothing
    when the demo properties already exist, so ``make run`` can be repeated."""
    from faker import Faker

    if Property.objects.filter(code=DEMO_PROPERTIES[0]["code"]).exists():
        return {
            "created": False,
            "guests": Guest.objects.count(),
            "reservations": Reservation.objects.count(),
        }
    rng = random.Random(seed)  # noqa: S311 - deterministic sample data, not secrets
    fakers = {country: Faker(locale) for country, locale in LOCALES.items()}
    for index, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + index)
    today = today or date.today()

    properties = [Property.objects.create(**data) for data in DEMO_PROPERTIES]
    guest_rows = []
    for _ in range(guests):
        country = rng.choice(list(LOCALES))
        fake = fakers[country]
        given, surname = fake.first_name(), fake.last_name()
        guest_rows.append(
            Guest(
                given_name=given,
                surname=surname,
                email=f"{fake.user_name()}{rng.randint(1, 999)}@example.com",
                phone=f"+{rng.choice(['351', '852', '44', '49', '33', '86', '81', '1'])}"
                f"{rng.randint(200000000, 999999999)}",
                nationality=country,
                language=LOCALES[country][:2],
            )
        )
    guest_objs = Guest.objects.bulk_create(guest_rows)

    reservations = []
    counter = 0
    for guest in guest_objs:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            counter += 1
            prop = rng.choice(properties)
            arrival = today + timedelta(days=rng.randint(-400, 60))
            nights = rng.randint(1, 7)
            status = _status_for(arrival, nights, today, rng)
            amount = (
                NIGHTLY[prop.currency] * nights * Decimal(rng.randint(80, 140)) / 100
            ).quantize(Decimal("0.01"))
            reservations.append(
                Reservation(
                    property=prop,
                    guest=guest,
                    confirmation_number=f"{prop.code[-3:]}{counter:07d}",
                    status=status,
                    channel=rng.choice(CHANNELS),
                    arrival=arrival,
                    departure=arrival + timedelta(days=nights),
                    adults=rng.randint(1, 3),
                    children=rng.choice([0, 0, 0, 1, 2]),
                    total_amount=amount,
                    currency=prop.currency,
                )
            )
    Reservation.objects.bulk_create(reservations)
    _refresh_guest_statistics()
    return {"created": True, "guests": len(guest_objs), "reservations": len(reservations)}


def _status_for(arrival: date, nights: int, today: date, rng: random.Random) -> str:
    departure = arrival + timedelta(days=nights)
    if rng.random() < 0.08:
        return Reservation.Status.CANCELLED
    if departure <= today:
        return Reservation.Status.NO_SHOW if rng.random() < 0.03 else Reservation.Status.CHECKED_OUT
    if arrival <= today:
        return Reservation.Status.IN_HOUSE
    return Reservation.Status.RESERVED


def _refresh_guest_statistics() -> None:
    """Recompute stays/nights/first/last stay from checked-out and in-house stays.
    Revenue is summed as stored; currency conversion arrives with exchange rates."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE crm_guest g SET
                stays = s.stays, nights = s.nights, revenue = s.revenue,
                first_stay = s.first_stay, last_stay = s.last_stay
            FROM (
                SELECT guest_id, count(*) AS stays, sum(departure - arrival) AS nights,
                       sum(total_amount) AS revenue, min(arrival) AS first_stay,
                       max(arrival) AS last_stay
                FROM crm_reservation
                WHERE status IN ('checked_out', 'in_house')
                GROUP BY guest_id
            ) s
            WHERE g.id = s.guest_id
            """
        )
