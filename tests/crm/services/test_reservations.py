"""Reservation status transitions and the guest statistics they keep right."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.models import Guest, RecordChange, Reservation, ReservationGuest
from crm.services.properties import exchange_rate_set
from crm.services.reservations import (
    ALLOWED_TRANSITIONS,
    TransitionRefused,
    folio_line_add,
    payment_add,
    reservation_cancel,
    reservation_status_change,
    reservation_update,
)
from tenants.errors import Conflict
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
S = Reservation.Status


def stats(guest: Guest) -> tuple:
    g = Guest.objects.get(pk=guest.pk)
    return (g.stays, g.nights, g.revenue, g.first_stay, g.last_stay)


def test_allowed_transitions_walk_a_stay_through(tenant_a):
    with tenant_context(tenant_a):
        prop, guest = make_property(), make_guest()
        res = make_reservation(property=prop, guest=guest)
        res = reservation_status_change(reservation=res, status=S.IN_HOUSE, actor=SYSTEM)
        assert res.status == S.IN_HOUSE
        res = reservation_status_change(reservation=res, status=S.CHECKED_OUT, actor=SYSTEM)
        assert Reservation.objects.get(pk=res.pk).status == S.CHECKED_OUT
        fields = set(
            RecordChange.objects.filter(
                object_api_name="reservation",
                record_id=str(res.pk),
                field="status",
                action="update",
            ).values_list("new", flat=True)
        )
        assert fields == {"in_house", "checked_out"}


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.RESERVED, S.CHECKED_OUT),
        (S.CHECKED_OUT, S.CANCELLED),
        (S.CHECKED_OUT, S.IN_HOUSE),
        (S.CANCELLED, S.CHECKED_OUT),
        (S.NO_SHOW, S.IN_HOUSE),
        (S.IN_HOUSE, S.CANCELLED),
    ],
)
def test_refused_transitions_raise_and_change_nothing(tenant_a, start, target):
    with tenant_context(tenant_a):
        res = make_reservation(property=make_property(), guest=make_guest(), status=start)
        with pytest.raises(TransitionRefused) as exc:
            reservation_status_change(reservation=res, status=target, actor=SYSTEM)
        assert exc.value.code == "status_transition_refused"
        assert f"from {start} to {target}" in exc.value.message
        assert Reservation.objects.get(pk=res.pk).status == start


def test_every_status_has_a_transition_rule():
    assert set(ALLOWED_TRANSITIONS) == set(S.values)


def test_cancel_sets_and_reinstate_clears_cancelled_at(tenant_a):
    with tenant_context(tenant_a):
        res = make_reservation(property=make_property(), guest=make_guest())
        res = reservation_cancel(reservation=res, actor=SYSTEM)
        assert res.status == S.CANCELLED and res.cancelled_at is not None
        res = reservation_status_change(reservation=res, status=S.RESERVED, actor=SYSTEM)
        assert res.cancelled_at is None


def test_statistics_follow_create_cancel_modify_and_status(tenant_a):
    with tenant_context(tenant_a):
        prop, guest = make_property(), make_guest()
        assert stats(guest) == (0, 0, Decimal("0.00"), None, None)

        stay1 = make_reservation(
            property=prop,
            guest=guest,
            arrival=date(2025, 5, 1),
            nights=3,
            total="450",
            status=S.CHECKED_OUT,
        )
        assert stats(guest) == (1, 3, Decimal("450.00"), date(2025, 5, 1), date(2025, 5, 1))

        future = make_reservation(property=prop, guest=guest, arrival=date(2026, 8, 1), nights=2)
        # A reservation not yet stayed does not count.
        assert stats(guest)[:2] == (1, 3)
        reservation_status_change(reservation=future, status=S.IN_HOUSE, actor=SYSTEM)
        assert stats(guest) == (2, 5, Decimal("750.00"), date(2025, 5, 1), date(2026, 8, 1))

        reservation_update(
            reservation=stay1,
            departure=date(2025, 5, 6),
            total_amount=Decimal("800"),
            actor=SYSTEM,
        )
        assert stats(guest) == (2, 7, Decimal("1100.00"), date(2025, 5, 1), date(2026, 8, 1))

        reservation_status_change(reservation=future, status=S.RESERVED, actor=SYSTEM)
        reservation_cancel(reservation=future, actor=SYSTEM)
        assert stats(guest) == (1, 5, Decimal("800.00"), date(2025, 5, 1), date(2025, 5, 1))


def test_changing_the_guest_moves_the_statistics(tenant_a):
    with tenant_context(tenant_a):
        prop, first, second = make_property(), make_guest(), make_guest()
        res = make_reservation(property=prop, guest=first, status=S.CHECKED_OUT, total="200")
        reservation_update(reservation=res, guest=second, guests=[second], actor=SYSTEM)
        assert stats(first)[:3] == (0, 0, Decimal("0.00"))
        assert stats(second)[:3] == (1, 2, Decimal("200.00"))
        assert list(
            ReservationGuest.objects.filter(reservation=res).values_list("guest_id", "is_primary")
        ) == [(second.pk, True)]


def test_new_primary_guest_replaces_the_old_one_and_keeps_companions(tenant_a):
    with tenant_context(tenant_a):
        prop, first, second, child = make_property(), make_guest(), make_guest(), make_guest()
        res = make_reservation(property=prop, guest=first, guests=[child], status=S.CHECKED_OUT)
        reservation_update(reservation=res, guest=second, actor=SYSTEM)
        links = ReservationGuest.objects.filter(reservation=res).order_by("guest_id")
        assert sorted(links.values_list("guest_id", "is_primary")) == sorted(
            [(second.pk, True), (child.pk, False)]
        )
        assert stats(first)[0] == 0 and stats(second)[0] == 1 and stats(child)[0] == 1


def test_sharing_guest_counts_the_stay_but_not_the_revenue(tenant_a):
    with tenant_context(tenant_a):
        prop, booker, partner = make_property(), make_guest(), make_guest()
        make_reservation(
            property=prop, guest=booker, guests=[partner], status=S.CHECKED_OUT, total="500"
        )
        assert stats(booker)[:3] == (1, 2, Decimal("500.00"))
        assert stats(partner)[:3] == (1, 2, Decimal("0.00"))


def test_revenue_is_converted_to_the_tenant_base_currency(tenant_a):
    with tenant_context(tenant_a):  # alpha's base currency is EUR
        hkd = make_property(currency="HKD", country="HK", timezone="Asia/Hong_Kong")
        usd = make_property(currency="USD", country="US", timezone="America/New_York")
        guest = make_guest()
        exchange_rate_set(
            currency="HKD",
            base_currency="EUR",
            rate=Decimal("0.12"),
            valid_from=date(2025, 1, 1),
            actor=SYSTEM,
        )
        exchange_rate_set(
            currency="HKD",
            base_currency="EUR",
            rate=Decimal("0.10"),
            valid_from=date(2026, 1, 1),
            actor=SYSTEM,
        )
        make_reservation(
            property=hkd, guest=guest, arrival=date(2025, 6, 1), total="1000", status=S.CHECKED_OUT
        )
        make_reservation(
            property=hkd, guest=guest, arrival=date(2026, 2, 1), total="1000", status=S.CHECKED_OUT
        )
        # No USD rate known: the stay counts, its revenue cannot be expressed in EUR.
        make_reservation(
            property=usd, guest=guest, arrival=date(2026, 3, 1), total="999", status=S.CHECKED_OUT
        )
        assert stats(guest)[:3] == (3, 6, Decimal("220.00"))


def test_jpy_tenant_rounds_to_yen(tenant_b):
    with tenant_context(tenant_b):
        prop = make_property(currency="JPY", country="JP", timezone="Asia/Tokyo")
        guest = make_guest()
        res = make_reservation(property=prop, guest=guest, total="12345.6", status=S.CHECKED_OUT)
        assert res.total_amount == Decimal("12346")
        assert stats(guest)[2] == Decimal("12346")


def test_confirmation_number_unique_per_property(tenant_a):
    with tenant_context(tenant_a):
        p1, p2, guest = make_property(), make_property(), make_guest()
        make_reservation(property=p1, guest=guest, confirmation_number="ABC1")
        make_reservation(property=p2, guest=guest, confirmation_number="ABC1")
        with pytest.raises(Conflict):
            make_reservation(property=p1, guest=guest, confirmation_number="ABC1")


def test_departure_before_arrival_refused(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as exc:
            make_reservation(property=make_property(), guest=make_guest(), nights=0)
        assert "departure" in exc.value.message_dict


def test_status_cannot_be_set_through_update(tenant_a):
    with tenant_context(tenant_a):
        res = make_reservation(property=make_property(), guest=make_guest())
        with pytest.raises(ValidationError):
            reservation_update(reservation=res, status=S.CHECKED_OUT, actor=SYSTEM)


def test_folio_lines_and_payments_in_any_currency(tenant_a):
    with tenant_context(tenant_a):
        res = make_reservation(property=make_property(), guest=make_guest())
        line = folio_line_add(
            reservation=res,
            kind="fnb",
            amount=Decimal("12.345"),
            posted_on=date(2026, 3, 1),
            description="Dinner",
            actor=SYSTEM,
        )
        payment = payment_add(
            reservation=res,
            method="city_ledger",
            amount=Decimal("100"),
            currency="USD",
            actor=SYSTEM,
        )
        assert line.amount == Decimal("12.35") and line.currency == "EUR"
        assert payment.currency == "USD"
        assert res.folio_lines.count() == 1 and res.payments.count() == 1
        with pytest.raises(ValidationError):
            payment_add(reservation=res, method="barter", amount=Decimal("1"), actor=SYSTEM)
