"""Fixtures of the loyalty tests: tenant alpha (base currency EUR) with the module on,
a two-tier programme (Silver entry, Gold at 10 nights / 3 stays / 2,000 EUR), a hotel and
a guest who is a member."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from crm.loyalty.models import Member, Tier
from crm.loyalty.services.members import member_enrol
from crm.loyalty.services.programme import programme_update, tier_create
from crm.models import Reservation
from crm.services.reservations import reservation_status_change
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM


def programme_setup() -> tuple[Tier, Tier]:
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    programme_update(points_per_unit="1", expiry_months=24, qualification_months=12, actor=SYSTEM)
    silver = tier_create(
        key="silver",
        name="Silver",
        rank=0,
        actor=SYSTEM,
        translations={"zh-hans": {"name": "银卡"}},
    )
    gold = tier_create(
        key="gold",
        name="Gold",
        rank=1,
        min_nights=10,
        min_stays=3,
        min_revenue=Decimal("2000"),
        earn_multiplier=Decimal("1.5"),
        actor=SYSTEM,
        translations={"zh-hans": {"name": "金卡"}},
    )
    return silver, gold


@pytest.fixture
def programme(tenant_a):
    with tenant_context(tenant_a):
        silver, gold = programme_setup()
        yield {"tenant": tenant_a, "silver": silver, "gold": gold}


@pytest.fixture
def hotel(programme):
    return make_property(code="LOY1", currency="EUR")


@pytest.fixture
def member(programme) -> Member:
    return member_enrol(guest=make_guest(surname="Member"), actor=SYSTEM)


def stay(
    *,
    hotel,
    member: Member,
    nights: int = 2,
    total: str = "300.00",
    currency: str = "",
    arrival: date | None = None,
) -> Reservation:
    """A stay of the member checked out through the reservation services."""
    arrival = arrival or date.today() - timedelta(days=nights + 1)
    reservation = make_reservation(
        property=hotel,
        guest=member.guest,
        arrival=arrival,
        nights=nights,
        total=total,
        currency=currency,
        status=Reservation.Status.IN_HOUSE,
    )
    return reservation_status_change(
        reservation=reservation, status=Reservation.Status.CHECKED_OUT, actor=SYSTEM
    )


def refreshed(member: Member) -> Member:
    return Member.objects.select_related("tier").get(pk=member.pk)


@pytest.fixture
def make_user(programme):
    from tests.access.conftest import _counter  # one numbering of test users

    def make(*role_keys: str):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role
        from tenants.access.services import user_roles_set
        from tests.conftest import PASSWORD

        user = get_user_model().objects.create_user(
            email=f"loyalty{next(_counter)}@alpha.test", password=PASSWORD
        )
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make
