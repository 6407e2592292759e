"""Deterministic sample data for the demo hotel group of ``make run``: two properties
with room types and rate plans, a few companies, a few hundred guests with contact
data, consents and stays (folio lines and payments on stays that happened)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm.models import (
    FolioLine,
    Guest,
    GuestConsent,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    Payment,
    Property,
    Reservation,
    ReservationGuest,
)
from crm.services.activities import activity_create
from crm.services.bulk import copy_insert, ids_reserve
from crm.services.common import money_round
from crm.services.companies import company_contact_add, company_create
from crm.services.guests import guest_statistics_refresh
from crm.services.properties import (
    exchange_rate_set,
    property_create,
    rate_plan_create,
    room_type_create,
)
from tenants.access.principal import Principal

DEMO_PROPERTIES: list[dict[str, Any]] = [
    {
        "code": "HBRLIS",
        "name": "Harbour Lisbon",
        "name_zh_hans": "里斯本港湾酒店",
        "name_zh_hant": "里斯本港灣酒店",
        "description": "Riverside hotel in Baixa, a short walk from Praça do Comércio.",
        "address_line1": "Rua da Alfândega 12",
        "postal_code": "1100-016",
        "country": "PT",
        "city": "Lisbon",
        "timezone": "Europe/Lisbon",
        "currency": "EUR",
        "star_rating": 4,
        "room_count": 180,
        "opened_on": date(2012, 5, 1),
    },
    {
        "code": "HBRHKG",
        "name": "Harbour Hong Kong",
        "name_zh_hans": "香港港湾酒店",
        "name_zh_hant": "香港港灣酒店",
        "description": "Harbour-view tower in Tsim Sha Tsui.",
        "address_line1": "18 Salisbury Road",
        "country": "HK",
        "city": "Hong Kong",
        "timezone": "Asia/Hong_Kong",
        "currency": "HKD",
        "star_rating": 5,
        "room_count": 320,
        "opened_on": date(2016, 9, 15),
    },
]
ROOM_TYPES = [
    ("STD", "Standard", 2, "0.8"),
    ("DLX", "Deluxe", 2, "1.0"),
    ("STE", "Suite", 4, "1.9"),
]
RATE_PLANS = [("BAR", "Best available rate"), ("CORP", "Corporate"), ("ADV", "Advance purchase")]
CHANNELS = ["direct", "booking_engine", "ota", "gds", "call_centre", "walk_in"]
MARKETS = ["TRN", "COR", "GRP", "MICE", "LEI"]
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
LANGUAGE = {"PT": "pt", "HK": "zh-hant", "CN": "zh-hans", "JP": "ja", "DE": "de", "FR": "fr"}
DIAL = {
    "PT": "351",
    "HK": "852",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "CN": "86",
    "JP": "81",
    "US": "1",
}
# Rough nightly rate per property currency, to keep revenue figures plausible.
NIGHTLY = {"EUR": Decimal("140"), "HKD": Decimal("1600")}


@transaction.atomic
def demo_data_generate(*, guests: int = 300, seed: int = 2026, today: date | None = None) -> dict:
    """Create the demo data. Does nothing when the demo properties already exist, so
    ``make run`` can be repeated."""
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
    actor = Principal.system("demo data")

    properties = [property_create(actor=actor, **data) for data in DEMO_PROPERTIES]
    room_types, rate_plans = {}, {}
    for prop in properties:
        for code, name, capacity, factor in ROOM_TYPES:
            room_types[(prop.pk, code)] = room_type_create(
                property=prop,
                code=code,
                name=name,
                capacity=capacity,
                base_rate=NIGHTLY[prop.currency] * Decimal(factor),
                actor=actor,
            )
        for code, name in RATE_PLANS:
            rate_plans[(prop.pk, code)] = rate_plan_create(
                property=prop, code=code, name=name, actor=actor
            )
    exchange_rate_set(
        currency="HKD",
        base_currency="EUR",
        rate=Decimal("0.118"),
        valid_from=today - timedelta(days=800),
        actor=actor,
    )
    companies = [
        company_create(
            name="Meridian Consulting",
            kind="corporate",
            country="GB",
            external_id="ACC-1001",
            email="travel@meridian.example",
            actor=actor,
        ),
        company_create(
            name="Lotus Travel",
            kind="travel_agent",
            country="HK",
            external_id="ACC-1002",
            iata_number="13345672",
            actor=actor,
        ),
        company_create(
            name="Atlas Events", kind="mice", country="PT", external_id="ACC-1003", actor=actor
        ),
    ]

    guest_objs: list[Guest] = []
    emails, phones, external, consents = [], [], [], []
    ids = ids_reserve(Guest, guests)
    for pk in ids:
        country = rng.choice(list(LOCALES))
        fake = fakers[country]
        email = f"{fake.user_name()}{rng.randint(1, 999)}@example.com"
        phone = f"+{DIAL[country]}{rng.randint(200000000, 999999999)}"
        guest = Guest(
            pk=pk,
            given_name=fake.first_name(),
            surname=fake.last_name(),
            birth_date=date(1950, 1, 1) + timedelta(days=rng.randint(0, 18000)),
            gender=rng.choice(["female", "male", ""]),
            email=email,
            phone=phone,
            nationality=country,
            language=LANGUAGE.get(country, "en"),
            customer_type=rng.choice(["individual"] * 6 + ["corporate", "group", "mice"]),
            vip_level=rng.choice([0] * 8 + [1, 2, 3]),
            tags=sorted(
                rng.sample(
                    ["family", "business", "spa", "golf", "foodie", "late-checkout"],
                    rng.randint(0, 2),
                )
            ),
        )
        guest_objs.append(guest)
        emails.append(GuestEmail(guest_id=pk, email=email, is_primary=True))
        phones.append(GuestPhone(guest_id=pk, number=phone, is_primary=True))
        external.append(GuestExternalId(guest_id=pk, source="OPERA", external_id=f"OP{pk:07d}"))
        consents.append(
            GuestConsent(
                guest_id=pk,
                channel="email",
                purpose="marketing",
                opted_in=rng.random() < 0.6,
                source="booking engine",
                recorded_at=timezone.now(),
            )
        )
    copy_insert(Guest, guest_objs, with_pk=True)
    for model, rows in (
        (GuestEmail, emails),
        (GuestPhone, phones),
        (GuestExternalId, external),
        (GuestConsent, consents),
    ):
        copy_insert(model, rows)

    reservations: list[Reservation] = []
    counter = 0
    for guest in guest_objs:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            counter += 1
            prop = rng.choice(properties)
            arrival = today + timedelta(days=rng.randint(-400, 60))
            nights = rng.randint(1, 7)
            status = _status_for(arrival, nights, today, rng)
            amount = money_round(
                NIGHTLY[prop.currency] * nights * Decimal(rng.randint(80, 140)) / 100,
                prop.currency,
            )
            room_code = rng.choice(ROOM_TYPES)[0]
            plan_code = rng.choice(RATE_PLANS)[0]
            company = rng.choice(companies) if plan_code == "CORP" else None
            reservations.append(
                Reservation(
                    pk=None,
                    property=prop,
                    guest=guest,
                    confirmation_number=f"{prop.code[-3:]}{counter:07d}",
                    status=status,
                    channel=rng.choice(CHANNELS),
                    market_code=rng.choice(MARKETS),
                    source_of_business="web" if rng.random() < 0.5 else "phone",
                    arrival=arrival,
                    departure=arrival + timedelta(days=nights),
                    room_type=room_types[(prop.pk, room_code)],
                    rate_plan=rate_plans[(prop.pk, plan_code)],
                    adults=rng.randint(1, 3),
                    children=rng.choice([0, 0, 0, 1, 2]),
                    total_amount=amount,
                    currency=prop.currency,
                    booker_company=company,
                    cancelled_at=timezone.now() if status == Reservation.Status.CANCELLED else None,
                )
            )
    for res, pk in zip(reservations, ids_reserve(Reservation, len(reservations)), strict=True):
        res.pk = res.id = pk
    copy_insert(Reservation, reservations, with_pk=True)
    copy_insert(
        ReservationGuest,
        [
            ReservationGuest(reservation_id=r.pk, guest_id=r.guest_id, is_primary=True)
            for r in reservations
        ],
    )
    folio, payments = [], []
    for res in reservations:
        if res.status in (Reservation.Status.CHECKED_OUT, Reservation.Status.IN_HOUSE):
            folio.append(
                FolioLine(
                    reservation_id=res.pk,
                    kind="room",
                    description="Room",
                    amount=res.total_amount,
                    currency=res.currency,
                    posted_on=res.arrival,
                )
            )
            if rng.random() < 0.5:
                folio.append(
                    FolioLine(
                        reservation_id=res.pk,
                        kind="fnb",
                        description="Restaurant",
                        amount=money_round(res.total_amount / 7, res.currency),
                        currency=res.currency,
                        posted_on=res.arrival,
                    )
                )
            if res.status == Reservation.Status.CHECKED_OUT:
                payments.append(
                    Payment(
                        reservation_id=res.pk,
                        method="city_ledger"
                        if res.booker_company_id
                        else rng.choice(["card", "cash", "online"]),
                        amount=res.total_amount,
                        currency=res.currency,
                        received_at=timezone.make_aware(datetime.combine(res.departure, time(11))),
                    )
                )
    copy_insert(FolioLine, folio)
    copy_insert(Payment, payments)
    guest_statistics_refresh(guest_ids=[g.pk for g in guest_objs])

    for company, guest in zip(companies, guest_objs[:3], strict=True):
        company_contact_add(
            company=company, guest=guest, role="travel_manager", primary=True, actor=actor
        )
    for guest in guest_objs[:5]:
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="note",
            body="Prefers a high floor, away from the lift.",
            actor=actor,
        )
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
