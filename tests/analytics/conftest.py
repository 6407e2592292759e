"""Fixtures of the analytics tests: tenant alpha (base currency EUR) with the module on,
and generated histories written in bulk (thousands of stays in well under a second; the
services' own paths are exercised by crm's tests and by the few rows made through them
here)."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from crm.analytics.services.rollup import rollup_rebuild
from crm.models import Guest, Property, RatePlan, Reservation, ReservationGuest, RoomType
from crm.services.guests import guest_statistics_refresh
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_property
from tests.principals import SYSTEM

TODAY = date(2026, 11, 29)
_numbers = itertools.count(1)


@pytest.fixture
def analytics_on(tenant_a):
    with tenant_context(tenant_a):
        module_set_enabled(key="analytics", enabled=True, actor=SYSTEM)
        yield tenant_a


@pytest.fixture
def hotel(analytics_on) -> Property:
    return make_property(code="ANA1", currency="EUR")


def guests_bulk(count: int, **fields) -> list[Guest]:
    return Guest.objects.bulk_create(
        [Guest(given_name="Guest", surname=f"No{next(_numbers)}", **fields) for _ in range(count)]
    )


def stays_bulk(rows: list[dict]) -> list[Reservation]:
    """Reservations (and their primary stay rows) from dicts of Reservation fields;
    ``nights`` stands for the departure. Written in bulk, they announce no record event,
    so guest statistics are refreshed and the reports' rollup rebuilt after (as the
    nightly run would)."""
    made = Reservation.objects.bulk_create(
        [
            Reservation(
                confirmation_number=f"S{next(_numbers):08d}",
                departure=row["arrival"] + timedelta(days=row.pop("nights", 2)),
                status=row.pop("status", Reservation.Status.CHECKED_OUT),
                total_amount=Decimal(row.pop("total", "200.00")),
                currency=row.pop("currency", "EUR"),
                **row,
            )
            for row in rows
        ]
    )
    ReservationGuest.objects.bulk_create(
        [ReservationGuest(reservation=r, guest_id=r.guest_id, is_primary=True) for r in made]
    )
    guest_statistics_refresh(guest_ids={r.guest_id for r in made})
    rollup_rebuild()
    return made


def churn_history(
    *, hotel: Property, guests: int, seed: int = 7, today: date = TODAY
) -> dict[int, float]:
    """Guests who return at a rate of their own (0.3, 1 or 3 stays a year, a Poisson
    process from a start within the first two of four years): how likely a guest is to
    churn depends on that rate only, which their past frequency and recency reveal.
    Returns each guest's rate."""
    rng = random.Random(seed)
    people = guests_bulk(guests)
    rates = {}
    rows = []
    span = 4 * 365
    for guest in people:
        rate = rng.choice((0.3, 1.0, 3.0))
        rates[guest.pk] = rate
        day = rng.uniform(0, 2 * 365)
        while True:
            day += rng.expovariate(rate / 365)
            if day >= span:
                break
            rows.append(
                {
                    "property": hotel,
                    "guest": guest,
                    "arrival": today - timedelta(days=span) + timedelta(days=int(day)),
                    "nights": rng.randint(1, 4),
                    "total": f"{rng.randint(100, 900)}.00",
                }
            )
    stays_bulk(rows)
    return rates


def group_with_preferences(
    *, seed: int = 11, guests_per_taste: int = 60, today: date = TODAY
) -> None:
    """A group of four hotels, each with two room types and two rate plans, and three
    tastes of guests: business (hotels 1-2, king rooms, corporate rate), family (hotels
    3-4, suites, package rate) and city break (hotels 1 and 3, doubles, flexible rate).
    Business is the biggest taste, so popularity offers its items to everybody."""
    rng = random.Random(seed)
    hotels = [make_property(code=f"GRP{i}", currency="EUR") for i in range(1, 5)]
    rooms = {
        (h.pk, code): RoomType.objects.create(property=h, code=code, name=code)
        for h in hotels
        for code in ("KING", "SUITE", "DBL")
    }
    rates = {
        (h.pk, code): RatePlan.objects.create(property=h, code=code, name=code)
        for h in hotels
        for code in ("CORP", "PKG", "FLEX")
    }
    tastes = {
        "business": ([hotels[0], hotels[1]], "KING", "CORP", guests_per_taste * 2),
        "family": ([hotels[2], hotels[3]], "SUITE", "PKG", guests_per_taste),
        "city": ([hotels[0], hotels[2]], "DBL", "FLEX", guests_per_taste),
    }
    rows = []
    for where, room, rate, count in tastes.values():
        for guest in guests_bulk(count):
            for n in range(rng.randint(2, 4)):
                hotel = rng.choice(where) if n else where[0]
                # Now and then a stay off the guest's taste (noise).
                if rng.random() < 0.1:
                    hotel = rng.choice(hotels)
                rows.append(
                    {
                        "property": hotel,
                        "guest": guest,
                        "room_type": rooms[(hotel.pk, room)],
                        "rate_plan": rates[(hotel.pk, rate)],
                        "arrival": today - timedelta(days=400 - 90 * n + rng.randint(0, 30)),
                    }
                )
    stays_bulk(rows)


@pytest.fixture
def make_user(analytics_on):
    from tests.access.conftest import _counter  # one numbering of test users

    def make(*role_keys: str):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role
        from tenants.access.services import user_roles_set
        from tests.conftest import PASSWORD

        user = get_user_model().objects.create_user(
            email=f"analytics{next(_counter)}@alpha.test", password=PASSWORD
        )
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make
