"""Points for stays: posted at checkout (in the base currency, with the rate dated on or
before arrival), reversed when the stay is cancelled after checkout or deleted,
re-posted when it is corrected; nothing for guests who are not members or when the
module is off."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.loyalty.models import LedgerEntry, Member
from crm.loyalty.services.ledger import balance_recount, months_later
from crm.loyalty.services.stays import stay_sync
from crm.models import Reservation
from crm.services.properties import exchange_rate_set
from crm.services.reservations import reservation_status_change
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.loyalty.conftest import refreshed, stay
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _consistent(member: Member) -> None:
    member = refreshed(member)
    assert balance_recount(member) == (member.balance, member.balance)


def test_checkout_in_the_base_currency_earns_points(hotel, member):
    reservation = stay(hotel=hotel, member=member, nights=2, total="300.00")

    [entry] = LedgerEntry.objects.filter(member=member)
    assert (entry.kind, entry.source, entry.points, entry.remaining) == (
        "earn",
        "reservation",
        300,
        300,
    )
    assert entry.reservation_id == reservation.pk
    assert entry.nights == 2 and entry.revenue == Decimal("300.00")
    assert entry.stay_on == reservation.departure
    assert entry.expires_on == months_later(date.today(), 24)
    assert entry.actor_label == "loyalty: reservation event"
    member = refreshed(member)
    assert (member.balance, member.lifetime_points) == (300, 300)
    assert (member.qualifying_nights, member.qualifying_stays) == (2, 1)
    _consistent(member)


def test_checkout_in_another_currency_uses_the_rate_dated_on_or_before_arrival(programme, member):
    usd_hotel = make_property(code="LOYUS", currency="USD")
    arrival = date.today() - timedelta(days=5)
    # An older rate, the one in force at arrival, and a later one that must not be used.
    for rate, valid_from in (
        ("0.5000", arrival - timedelta(days=30)),
        ("0.9000", arrival - timedelta(days=1)),
        ("2.0000", arrival + timedelta(days=1)),
    ):
        exchange_rate_set(
            currency="USD",
            base_currency="EUR",
            rate=Decimal(rate),
            valid_from=valid_from,
            actor=SYSTEM,
        )

    reservation = stay(hotel=usd_hotel, member=member, arrival=arrival, total="1000.00")

    entry = LedgerEntry.objects.get(reservation_id=reservation.pk, kind="earn")
    assert entry.revenue == Decimal("900.00")
    assert entry.points == 900  # 1 point per EUR, Silver multiplier 1
    assert entry.details["currency"] == "USD" and entry.details["rate"] == "0.9000000000"
    assert entry.details["rate_date"] == (arrival - timedelta(days=1)).isoformat()
    assert refreshed(member).balance == 900


def test_a_currency_without_rate_earns_no_points_but_counts_the_nights(programme, member):
    gbp_hotel = make_property(code="LOYGB", currency="GBP")

    reservation = stay(hotel=gbp_hotel, member=member, nights=4, total="500.00")

    entry = LedgerEntry.objects.get(reservation_id=reservation.pk)
    assert (entry.points, entry.nights, entry.details["rate"]) == (0, 4, None)
    member = refreshed(member)
    assert (member.balance, member.qualifying_nights) == (0, 4)


def test_cancelling_after_checkout_reverses_the_points(hotel, member):
    """Only the PMS's import can cancel a checked-out stay (the PMS is the source of
    truth); the record event it sends takes the points back."""
    reservation = stay(hotel=hotel, member=member, total="250.00")
    other = stay(hotel=hotel, member=member, total="100.00")
    assert refreshed(member).balance == 350

    Reservation.objects.filter(pk=reservation.pk).update(status="cancelled")
    from metadata import events

    events.record_event_emit(
        object_api_name="reservation",
        action=events.UPDATED,
        record_id=reservation.pk,
        old={"status": "checked_out"},
        new={"status": "cancelled"},
    )

    earn = LedgerEntry.objects.get(reservation_id=reservation.pk, kind="earn")
    reversal = LedgerEntry.objects.get(reservation_id=reservation.pk, kind="reverse")
    assert reversal.reverses_id == earn.pk and reversal.points == -250
    assert reversal.nights == -earn.nights and reversal.reason == "stay cancelled"
    # Its own bucket is emptied, the other stay's is untouched.
    earn.refresh_from_db()
    assert earn.remaining == 0
    assert LedgerEntry.objects.get(reservation_id=other.pk).remaining == 100
    member = refreshed(member)
    assert member.balance == 100 and member.qualifying_stays == 1
    _consistent(member)
    # The same event again changes nothing.
    assert stay_sync(reservation_id=reservation.pk, actor=SYSTEM) == []
    assert LedgerEntry.objects.filter(reservation_id=reservation.pk).count() == 2


def test_cancellation_by_import_reverses_the_points(hotel, member, tmp_path):
    """The real door: a reservation file saying the stay is cancelled."""
    from crm.services.guests import guest_external_id_add
    from crm.services.imports import import_file

    guest_external_id_add(guest=member.guest, source="IMPORT", external_id="G-1", actor=SYSTEM)
    reservation = stay(hotel=hotel, member=member, total="120.00")
    assert refreshed(member).balance == 120
    csv = (
        "property,confirmation_number,guest_external_id,arrival,departure,status,"
        "total_amount,currency\n"
        f"LOY1,{reservation.confirmation_number},G-1,{reservation.arrival},"
        f"{reservation.departure},cancelled,120.00,EUR\n"
    )
    path = tmp_path / "stays.csv"
    path.write_text(csv)
    report = import_file(object_api_name="reservation", path=path, dry_run=False, actor=SYSTEM)
    assert (report["updated"], report["invalid"]) == (1, 0), report
    assert Reservation.objects.get(pk=reservation.pk).status == "cancelled"
    assert refreshed(member).balance == 0
    assert LedgerEntry.objects.filter(reservation_id=reservation.pk, kind="reverse").count() == 1


def test_a_corrected_amount_after_checkout_is_reposted(hotel, member):
    reservation = stay(hotel=hotel, member=member, total="200.00")
    Reservation.objects.filter(pk=reservation.pk).update(total_amount=Decimal("260.00"))

    written = stay_sync(reservation_id=reservation.pk, actor=SYSTEM)

    assert [(e.kind, e.points) for e in written] == [("reverse", -200), ("earn", 260)]
    assert refreshed(member).balance == 260
    _consistent(member)


def test_spent_points_are_not_taken_below_zero_by_a_reversal(hotel, member):
    from crm.loyalty.services.ledger import points_adjust

    reservation = stay(hotel=hotel, member=member, total="100.00")
    points_adjust(member=member, points=-70, reason="spent elsewhere", actor=SYSTEM)
    Reservation.objects.filter(pk=reservation.pk).delete()

    [reversal] = stay_sync(reservation_id=reservation.pk, actor=SYSTEM)

    assert reversal.points == -30 and reversal.details["shortfall"] == 70
    assert reversal.reason == "reservation deleted"
    assert refreshed(member).balance == 0
    _consistent(member)


def test_guests_who_are_not_members_earn_nothing(hotel, programme):
    guest = make_guest(surname="Nobody")
    reservation = make_reservation(property=hotel, guest=guest, status="in_house")
    reservation_status_change(reservation=reservation, status="checked_out", actor=SYSTEM)
    assert not LedgerEntry.objects.exists()


def test_nothing_is_posted_while_the_module_is_off(hotel, member):
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    stay(hotel=hotel, member=member)
    assert not LedgerEntry.objects.filter(member=member).exists()
    # The nightly reconciliation posts it once the module is back on.
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    from crm.loyalty.services.stays import stays_reconcile

    assert stays_reconcile(actor=SYSTEM) == 1
    assert refreshed(member).balance == 300
    assert stays_reconcile(actor=SYSTEM) == 0


def test_a_suspended_member_earns_nothing_new_and_keeps_what_was_earned(hotel, member):
    from crm.loyalty.services.members import member_status_set

    earned = stay(hotel=hotel, member=member, total="100.00")
    member_status_set(member=member, status="suspended", actor=SYSTEM)

    stay(hotel=hotel, member=member, total="400.00")
    Reservation.objects.filter(pk=earned.pk).update(total_amount=Decimal("90.00"))
    assert stay_sync(reservation_id=earned.pk, actor=SYSTEM) == []

    assert refreshed(member).balance == 100
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_reservation_events_cost_nothing_while_the_module_is_off(hotel, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.loyalty.events import on_record_event
    from metadata import events

    reservation = stay(hotel=hotel, member=member)
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    event = events.RecordEvent(
        object_api_name="reservation",
        action=events.UPDATED,
        record_id=str(reservation.pk),
        old={"total_amount": "300.00"},
        new={"total_amount": "310.00"},
    )

    with CaptureQueriesContext(connection) as queries:
        on_record_event(event)

    assert len(queries) == 0


def test_a_stay_moved_to_another_member_moves_its_points(hotel, member, programme):
    from crm.loyalty.services.members import member_enrol

    other = member_enrol(guest=make_guest(surname="Other"), actor=SYSTEM)
    reservation = stay(hotel=hotel, member=member, total="150.00")
    Reservation.objects.filter(pk=reservation.pk).update(guest=other.guest)

    written = stay_sync(reservation_id=reservation.pk, actor=SYSTEM)

    assert [(e.member_id, e.kind, e.points) for e in written] == [
        (member.pk, "reverse", -150),
        (other.pk, "earn", 150),
    ]
    assert (refreshed(member).balance, refreshed(other).balance) == (0, 150)
    stranger = make_guest(surname="Stranger")
    Reservation.objects.filter(pk=reservation.pk).update(guest=stranger)
    [moved] = stay_sync(reservation_id=reservation.pk, actor=SYSTEM)
    assert moved.reason == "stay moved to a guest who is not a member"
    assert refreshed(other).balance == 0


def test_a_checkout_posts_its_points_in_a_bounded_number_of_queries(hotel, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reservation = make_reservation(
        property=hotel, guest=member.guest, status=Reservation.Status.CHECKED_OUT
    )
    # Created checked out (as an import or the PMS sends it): posted at once.
    assert LedgerEntry.objects.filter(reservation_id=reservation.pk, kind="earn").count() == 1
    Reservation.objects.filter(pk=reservation.pk).update(total_amount=Decimal("310.00"))

    with CaptureQueriesContext(connection) as queries:
        written = stay_sync(reservation_id=reservation.pk, actor=SYSTEM)

    assert [e.kind for e in written] == ["reverse", "earn"]
    # Reservation, membership, rate, programme, ledger, lock, ledger again under the
    # lock, buckets, writes, tiers...
    assert len(queries) <= 20, [q["sql"][:90] for q in queries]


def test_two_syncs_of_one_stay_at_once_post_it_once(hotel, member, monkeypatch):
    """The checkout event and the nightly reconciliation (or a message given to two
    workers) sync the same stay: the second read nothing posted before it waited for
    the member's lock, and once posted the stay a second time."""
    from django.db import transaction

    from crm.loyalty.services import stays

    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    reservation = stay(hotel=hotel, member=member)  # checked out, nothing posted
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    assert not LedgerEntry.objects.filter(reservation_id=reservation.pk).exists()
    original = stays.member_lock

    def lock_after_the_other_sync(pk: int) -> Member:
        # The other sync takes the lock first, posts and commits; then this one's turn.
        monkeypatch.setattr(stays, "member_lock", original)
        assert len(stays.stay_sync(reservation_id=reservation.pk, actor=SYSTEM)) == 1
        return original(pk)

    monkeypatch.setattr(stays, "member_lock", lock_after_the_other_sync)
    with transaction.atomic():
        written = stays.stay_sync(reservation_id=reservation.pk, actor=SYSTEM)

    assert written == []
    earned = LedgerEntry.objects.filter(reservation_id=reservation.pk, kind="earn")
    assert earned.count() == 1
    assert refreshed(member).balance == earned.get().points == balance_recount(member)[0]
