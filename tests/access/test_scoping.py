"""Property scoping: a user limited to some properties sees only their stays (and the
guests of those stays)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.models import Guest, Property, Reservation
from tenants.access import policy, scoping
from tenants.access.models import AuditEvent
from tenants.access.services import user_property_scope_set
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotels(alpha):
    paris = Property.objects.create(code="PARIS1", name="Alpha Paris", country="FR", currency="EUR")
    nice = Property.objects.create(code="NICE1", name="Alpha Nice", country="FR", currency="EUR")
    ana = Guest.objects.create(given_name="Ana", surname="Paris-Guest")
    bo = Guest.objects.create(given_name="Bo", surname="Nice-Guest")
    for number, (hotel, guest) in enumerate([(paris, ana), (nice, bo)]):
        Reservation.objects.create(
            property=hotel,
            guest=guest,
            confirmation_number=f"C{number}",
            arrival=date(2026, 5, 1),
            departure=date(2026, 5, 3),
            total_amount=Decimal("300"),
            currency="EUR",
        )
    return paris, nice, ana, bo


def test_unscoped_user_sees_every_property(make_user, hotels):
    clerk = make_user("front_office")
    assert scoping.property_ids_for(clerk) is None
    qs = scoping.filter_by_properties(Reservation.objects.all(), clerk)
    assert qs.count() == Reservation.objects.count()


def test_scoped_user_sees_only_their_properties(make_user, hotels):
    paris, nice, ana, bo = hotels
    clerk = make_user("front_office")

    user_property_scope_set(user=clerk, property_ids=[paris.pk], actor=SYSTEM)

    assert scoping.property_ids_for(clerk) == {paris.pk}
    stays = scoping.filter_by_properties(Reservation.objects.all(), clerk)
    assert list(stays.values_list("property__code", flat=True)) == ["PARIS1"]
    guests = scoping.filter_by_properties(
        Guest.objects.all(), clerk, lookup="reservations__property_id"
    ).distinct()
    assert list(guests) == [ana]
    props = scoping.filter_by_properties(Property.objects.all(), clerk, lookup="id")
    assert list(props) == [paris]
    assert scoping.property_allowed(clerk, paris.pk)
    assert not scoping.property_allowed(clerk, nice.pk)
    with pytest.raises(policy.AccessDenied) as info:
        scoping.property_require(clerk, nice.pk)
    assert info.value.message == f"You are not allowed to work with property {nice.pk}."
    event = AuditEvent.objects.get(action="property_scope_change")
    assert event.details["property_ids"] == [paris.pk]


def test_empty_scope_sees_nothing_and_none_lifts_it(make_user, hotels):
    clerk = make_user("front_office")
    user_property_scope_set(user=clerk, property_ids=[], actor=SYSTEM)
    assert scoping.filter_by_properties(Reservation.objects.all(), clerk).count() == 0

    user_property_scope_set(user=clerk, property_ids=None, actor=SYSTEM)
    assert scoping.property_ids_for(clerk) is None


def test_tenant_admin_is_never_limited(make_user, hotels):
    admin = make_user("tenant_admin")
    user_property_scope_set(user=admin, property_ids=[hotels[0].pk], actor=SYSTEM)
    assert scoping.property_ids_for(admin) is None


def test_me_endpoint_reports_the_scope(make_user, hotels, alpha):
    paris, nice, *_ = hotels
    clerk = make_user("front_office")
    user_property_scope_set(user=clerk, property_ids=[nice.pk, paris.pk], actor=SYSTEM)

    body = client_for(clerk, alpha).get("/api/v1/access/me/").json()

    assert body["property_ids"] == sorted([paris.pk, nice.pk])
