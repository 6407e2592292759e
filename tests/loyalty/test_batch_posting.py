"""``stays_sync_many``: the set-based posting of many stays ends in exactly the ledger,
balances, counters, tiers and audit rows that ``stay_sync`` one stay at a time gives,
for every kind of stay at once; and its queries do not grow with the stays."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.loyalty.models import LedgerEntry, Member
from crm.loyalty.services import ledger
from crm.loyalty.services.ledger import balance_recount, points_adjust
from crm.loyalty.services.members import member_enrol, member_status_set
from crm.loyalty.services.stays import stay_sync, stays_sync_many
from crm.models import RecordChange, Reservation
from crm.services.properties import exchange_rate_set
from metadata.services.modules import module_set_enabled
from tenants.access.principal import Principal
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
ACTOR = Principal.system("loyalty: batch test")
ARRIVAL = date.today() - timedelta(days=20)


class Rollback(Exception):
    pass


def _enrolled(surname: str) -> Member:
    return member_enrol(guest=make_guest(surname=surname), actor=SYSTEM)


def _checked_out(hotel, member_or_guest, total="300.00", **fields) -> Reservation:
    guest = getattr(member_or_guest, "guest", member_or_guest)
    return make_reservation(
        property=hotel,
        guest=guest,
        arrival=ARRIVAL,
        total=total,
        status=Reservation.Status.CHECKED_OUT,
        **fields,
    )


def _snapshot() -> dict:
    """Everything a posting writes, without the ids of rows it creates."""
    reservation_of = dict(LedgerEntry.objects.values_list("pk", "reservation_id"))
    entries = sorted(
        (
            e.member_id, e.kind, e.source, e.points, e.remaining, e.expires_on, e.stay_on,
            e.nights, e.revenue, e.reservation_id, e.reason, e.actor_label,
            reservation_of.get(e.reverses_id), repr(sorted(e.details.items())),
        )
        for e in LedgerEntry.objects.all()
    )  # fmt: skip
    members = sorted(
        Member.objects.values_list(
            "pk", "balance", "lifetime_points", "qualifying_nights", "qualifying_stays",
            "qualifying_revenue", "tier_id", "tier_since", "status",
        )
    )  # fmt: skip
    audit = sorted(
        (c.record_id, c.field, repr(c.old), repr(c.new))
        for c in RecordChange.objects.filter(object_api_name="loyalty_account")
    )
    return {"entries": entries, "members": members, "audit": audit}


def test_many_stays_of_every_kind_end_as_one_by_one_would(programme, hotel, monkeypatch):
    usd = make_property(code="LOYUSB", currency="USD")
    jpy = make_property(code="LOYJPB", currency="JPY")
    exchange_rate_set(
        currency="USD",
        base_currency="EUR",
        rate=Decimal("0.9"),
        valid_from=ARRIVAL - timedelta(days=3),
        actor=SYSTEM,
    )
    exchange_rate_set(
        currency="USD",
        base_currency="EUR",
        rate=Decimal("2"),
        valid_from=ARRIVAL + timedelta(days=1),
        actor=SYSTEM,
    )
    m = {name: _enrolled(name) for name in "abcdefghijk"}
    # Posted while the module is on...
    cancelled = _checked_out(hotel, m["a"])
    corrected = _checked_out(hotel, m["b"])
    moved = _checked_out(hotel, m["c"])
    # ...a bucket due to expire...
    monkeypatch.setattr(ledger, "today", lambda: date.today() - timedelta(days=800))
    points_adjust(member=m["j"], points=40, reason="goodwill", actor=SYSTEM)
    monkeypatch.undo()
    member_status_set(member=m["h"], status=Member.Status.SUSPENDED, actor=SYSTEM)
    # ...then, with the module off (no postings), what the batch must bring in line.
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    Reservation.objects.filter(pk=cancelled.pk).update(status=Reservation.Status.CANCELLED)
    Reservation.objects.filter(pk=corrected.pk).update(total_amount=Decimal("500.00"))
    Reservation.objects.filter(pk=moved.pk).update(guest=m["d"].guest)
    stays = [
        _checked_out(hotel, m["e"]),  # plain, base currency
        _checked_out(usd, m["f"], currency="USD", total="200.00"),  # the rate at arrival
        _checked_out(jpy, m["g"], currency="JPY", total="9000"),  # no rate: 0 points
        _checked_out(hotel, m["h"]),  # suspended: nothing
        _checked_out(hotel, make_guest(surname="Stranger")),  # not a member
        _checked_out(hotel, m["i"], total="2500.00"),  # crosses Gold
        _checked_out(hotel, m["k"], total="2500.00"),  # two stays: the second at Gold
        _checked_out(hotel, m["k"], total="100.00"),
        _checked_out(hotel, m["d"], total="120.00"),  # d also gets the moved stay
        _checked_out(hotel, m["j"], total="80.00"),  # expiry first
        make_reservation(property=hotel, guest=m["e"].guest, arrival=ARRIVAL),  # reserved
    ]
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    ids = [cancelled.pk, corrected.pk, moved.pk, *(s.pk for s in stays), 10**9]

    try:
        with transaction.atomic():
            one_by_one = sum(len(stay_sync(reservation_id=pk, actor=ACTOR)) for pk in ids)
            expected = _snapshot()
            raise Rollback
    except Rollback:
        pass
    written = stays_sync_many(reservation_ids=ids, actor=ACTOR)

    assert _snapshot() == expected
    assert written == one_by_one > 10
    by_surname = {mem.guest.surname: mem for mem in Member.objects.select_related("tier", "guest")}
    assert by_surname["i"].tier.key == "gold" and by_surname["k"].tier.key == "gold"
    assert by_surname["f"].balance == 180  # 200 USD at 0.9
    assert by_surname["h"].balance == 0
    for member in by_surname.values():
        assert balance_recount(member) == (member.balance, member.balance)
    # Running it again changes nothing.
    assert stays_sync_many(reservation_ids=ids, actor=ACTOR) == 0
    assert _snapshot() == expected


def test_a_batch_of_fresh_stays_takes_a_bounded_number_of_queries(programme, hotel):
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    few = [_checked_out(hotel, _enrolled(f"Few{n}")) for n in range(3)]
    many = [_checked_out(hotel, _enrolled(f"Many{n}")) for n in range(30)]
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)

    with CaptureQueriesContext(connection) as small:
        assert stays_sync_many(reservation_ids=[r.pk for r in few], actor=ACTOR) == 3
    with CaptureQueriesContext(connection) as large:
        assert stays_sync_many(reservation_ids=[r.pk for r in many], actor=ACTOR) == 30

    assert len(large) == len(small) <= 16, [q["sql"][:90] for q in large]
    assert LedgerEntry.objects.filter(kind="earn", points=300).count() == 33


def test_the_batch_needs_the_right_to_post(programme, make_user):
    from tenants.access.errors import AccessDenied

    with pytest.raises(AccessDenied):
        stays_sync_many(reservation_ids=[1], actor=Principal.of(make_user("front_office")))
