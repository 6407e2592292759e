"""Fixtures of the service desk tests: tenant alpha (Europe/Paris) with the service
module on, a clock the tests move, and hotels in two time zones with their calendars."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from crm.service.services.levels import calendar_set, service_level_create
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_property
from tests.principals import SYSTEM

PARIS, TOKYO = ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Tokyo")
WEEKDAYS_9_TO_6 = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(5)]


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def set(self, when: datetime) -> datetime:
        self.at = when
        return when

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from crm.service import clock as module_clock

    fake = Clock()
    monkeypatch.setattr(module_clock, "now", fake.now)
    return fake


@pytest.fixture
def desk(tenant_a, clock):
    with tenant_context(tenant_a):
        module_set_enabled(key="service", enabled=True, actor=SYSTEM)
        yield tenant_a


@pytest.fixture
def hotels(desk) -> dict:
    """Paris: Monday to Friday 09:00-18:00, Monday 9 March 2026 a holiday. Tokyo: Monday
    to Friday 10:00-19:00, Friday 20 March 2026 (Vernal Equinox Day) a holiday."""
    paris = make_property(code="SVPAR", timezone="Europe/Paris", country="FR")
    tokyo = make_property(code="SVTYO", timezone="Asia/Tokyo", country="JP", currency="JPY")
    calendar_set(
        property=paris,
        hours=WEEKDAYS_9_TO_6,
        holidays=[{"day": "2026-03-09", "name": "Staff day"}],
        actor=SYSTEM,
    )
    calendar_set(
        property=tokyo,
        hours=[{"weekday": d, "opens": "10:00", "closes": "19:00"} for d in range(5)],
        holidays=[{"day": "2026-03-20", "name": "春分の日"}],
        actor=SYSTEM,
    )
    service_level_create(
        category="room",
        priority="high",
        first_response_minutes=120,
        resolution_minutes=480,
        actor=SYSTEM,
    )
    return {"paris": paris, "tokyo": tokyo}


@pytest.fixture
def make_user(desk):
    from tests.access.conftest import _counter

    def make(*role_keys: str, hotels=None):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role
        from tenants.access.services import user_property_scope_set, user_roles_set
        from tests.conftest import PASSWORD

        user = get_user_model().objects.create_user(
            email=f"service{next(_counter)}@alpha.test", password=PASSWORD
        )
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        if hotels is not None:
            user_property_scope_set(user=user, property_ids=[h.pk for h in hotels], actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make
