"""Every report on a small, hand-made history: the figures equal those worked out by hand
and a raw-SQL recomputation over the base tables, including a reservation in US dollars
converted with the rate valid on its arrival (two dated rates), filters, and the hotel
scope of the reader."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from crm.analytics.reports import Filters, report_run
from crm.analytics.services.rollup import rollup_rebuild
from crm.analytics.services.scores import scores_refresh
from crm.models import Reservation
from crm.services.properties import exchange_rate_set
from tests.analytics.conftest import TODAY, guests_bulk, stays_bulk
from tests.crm.factories import make_property
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def history(hotel):
    """Two hotels; four guests (PT, PT, CN, CN-zh); six reservations in March and April
    2026, one in USD arriving after the dollar's rate changed."""
    other = make_property(code="ANA2", currency="USD")
    exchange_rate_set(
        currency="USD", base_currency="EUR", rate=D("0.9"), valid_from=date(2026, 1, 1),
        actor=SYSTEM,
    )  # fmt: skip
    exchange_rate_set(
        currency="USD", base_currency="EUR", rate=D("0.8"), valid_from=date(2026, 4, 1),
        actor=SYSTEM,
    )  # fmt: skip
    ana, rui = guests_bulk(2, nationality="PT", language="pt")
    li, wang = guests_bulk(2, nationality="CN", language="zh-hans")
    made = stays_bulk(
        [
            # March: ana twice at hotel 1 (OTA, LEI), li once at hotel 2 in USD at 0.9.
            row(property=hotel, guest=ana, arrival=date(2026, 3, 2), nights=2, total="200.00",
                 channel="OTA", market_code="LEI"),
            row(property=hotel, guest=ana, arrival=date(2026, 3, 20), nights=1, total="90.00",
                 channel="WEB", market_code="LEI"),
            row(property=other, guest=li, arrival=date(2026, 3, 10), nights=3, total="300.00",
                 currency="USD", channel="OTA", market_code="COR"),
            row(property=hotel, guest=rui, arrival=date(2026, 3, 25), nights=2, total="180.00",
                 channel="OTA", market_code="LEI", status=Reservation.Status.CANCELLED),
            # April: li again in USD at 0.8 (7 nights), wang a no-show.
            row(property=other, guest=li, arrival=date(2026, 4, 5), nights=7, total="1000.00",
                 currency="USD", channel="WEB", market_code="COR"),
            row(property=hotel, guest=wang, arrival=date(2026, 4, 8), nights=1, total="80.00",
                 channel="OTA", market_code="LEI", status=Reservation.Status.NO_SHOW),
        ]
    )  # fmt: skip
    # Booked 40 days (ana's first) and 0 days (the rest) before arrival.
    Reservation.objects.filter(pk=made[0].pk).update(
        created=timezone.make_aware(timezone.datetime(2026, 1, 21, 12))
    )
    Reservation.objects.filter(pk__in=[r.pk for r in made[1:]]).update(
        created=timezone.make_aware(timezone.datetime(2026, 5, 1, 12))
    )
    rollup_rebuild()  # the updates above bypass the record events
    return {"hotel": hotel, "other": other, "ana": ana, "li": li, "wang": wang}


def row(**fields) -> dict:
    return fields


def run(name: str, **filters):
    """The report from the raw tables; from the rollup (when it can answer) it is the
    same."""
    raw_tables = report_run(actor=SYSTEM, name=name, filters=Filters(**filters), source="base")
    assert report_run(actor=SYSTEM, name=name, filters=Filters(**filters)) == raw_tables
    return raw_tables


def raw(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def test_bookings_by_month_with_dated_rates(history):
    report = run("bookings_by_month")

    # March: 200 + 90 + 300 USD * 0.9 = 560; April: 1000 USD * 0.8 = 800.
    assert report["currency"] == "EUR" and report["unconverted"] == 0
    assert report["columns"] == ["month", "bookings", "room_nights", "revenue"]
    assert report["rows"] == [["2026-03", 4, 6, D("560.00")], ["2026-04", 2, 7, D("800.00")]]
    # The same from the base tables, written independently (a lateral rate lookup).
    reference = raw(
        """SELECT to_char(r.arrival, 'YYYY-MM'), count(*),
                  sum(r.departure - r.arrival) FILTER (WHERE r.status IN
                      ('reserved', 'in_house', 'checked_out')),
                  sum(r.total_amount * coalesce(x.rate, 1)) FILTER (WHERE r.status IN
                      ('reserved', 'in_house', 'checked_out'))
           FROM crm_reservation r
           LEFT JOIN LATERAL (SELECT rate FROM crm_exchangerate e
                              WHERE e.currency = r.currency AND e.base_currency = 'EUR'
                                AND e.valid_from <= r.arrival
                              ORDER BY valid_from DESC LIMIT 1) x ON r.currency <> 'EUR'
           GROUP BY 1 ORDER BY 1"""
    )
    assert [[m, n, rn, D(v).quantize(D("0.01"))] for m, n, rn, v in reference] == report["rows"]


def test_cancellations_and_no_shows(history):
    assert run("cancellations")["rows"] == [
        ["2026-03", 4, 1, 0, D("0.2500"), D("0.0000")],
        ["2026-04", 2, 0, 1, D("0.0000"), D("0.5000")],
    ]


def test_revenue_and_adr_by_market_segment(history):
    # COR: 270 + 800 EUR over 10 nights; LEI: 290 EUR over 3 nights.
    assert run("revenue_by_segment")["rows"] == [
        ["COR", 2, 10, D("1070.00"), D("107.00")],
        ["LEI", 2, 3, D("290.00"), D("96.67")],
    ]


def test_booking_window_and_length_of_stay(history):
    window = run("booking_window")["rows"]
    assert window == [
        ["0", 3, D("0.7500")],
        ["1-7", 0, D("0.0000")],
        ["8-30", 0, D("0.0000")],
        ["31-90", 1, D("0.2500")],
        ["91+", 0, D("0.0000")],
    ]
    assert run("length_of_stay")["rows"] == [
        ["1", 1, D("0.2500")],
        ["2", 1, D("0.2500")],
        ["3", 1, D("0.2500")],
        ["4-6", 0, D("0.0000")],
        ["7+", 1, D("0.2500")],
    ]


def test_repeat_guests_and_guest_mix(history):
    # Stayed: ana (twice), li (twice): both repeat; in April only li, who stayed before.
    assert run("repeat_guests")["rows"] == [[2, 2, D("1.0000")]]
    assert run("repeat_guests", start=date(2026, 3, 1), end=date(2026, 3, 15))["rows"] == [
        [2, 0, D("0.0000")]
    ]
    assert run("guest_mix")["rows"] == [["CN", "zh-hans", 1, 2], ["PT", "pt", 1, 2]]


def test_filters_narrow_every_report(history):
    only_ota = run("bookings_by_month", channel="OTA")
    assert only_ota["rows"] == [["2026-03", 3, 5, D("470.00")], ["2026-04", 1, 0, D("0.00")]]
    assert run("bookings_by_month", property=history["other"].pk, nationality="CN")["rows"] == [
        ["2026-03", 1, 3, D("270.00")],
        ["2026-04", 1, 7, D("800.00")],
    ]
    assert run("bookings_by_month", start=date(2026, 4, 1), market_code="LEI")["rows"] == [
        ["2026-04", 1, 0, D("0.00")]
    ]
    assert run("bookings_by_month", source="nowhere")["rows"] == []
    assert run("bookings_by_month", start=date(2026, 4, 1))["filters"] == {"start": "2026-04-01"}


def test_a_currency_without_a_rate_is_counted_not_guessed(history):
    stays_bulk(
        [{"property": history["hotel"], "guest": history["ana"], "arrival": date(2026, 4, 20),
          "currency": "GBP", "total": "100.00"}]
    )  # fmt: skip
    report = run("bookings_by_month", start=date(2026, 4, 1))
    assert report["unconverted"] == 1
    assert report["rows"] == [["2026-04", 3, 9, D("800.00")]]


def test_segment_and_churn_reports_count_the_scores(history):
    scores_refresh(actor=SYSTEM, today=TODAY)

    segments = {row[0]: row[2] for row in run("rfm_segments")["rows"]}
    assert sum(segments.values()) == 2  # ana and li stayed; rui and wang never did
    assert [row[1] for row in run("rfm_segments")["rows"]][0] == "Champions"
    risk = run("churn_risk")["rows"]
    assert sum(row[1] + row[2] for row in risk) == 2 and all(row[1] == 0 for row in risk)
    assert run("rfm_segments", nationality="CN")["rows"][0][0] == "champions"
    assert sum(row[2] for row in run("rfm_segments", nationality="CN")["rows"]) == 1


def test_a_hotel_scoped_reader_sees_only_their_hotels(history, make_user):
    from tenants.access.principal import Principal
    from tenants.access.services import user_property_scope_set

    user = make_user("general_manager")
    user_property_scope_set(user=user, property_ids=[history["hotel"].pk], actor=SYSTEM)
    reader = Principal.of(user)

    report = report_run(actor=reader, name="bookings_by_month", filters=Filters())

    assert report["rows"] == [["2026-03", 3, 3, D("290.00")], ["2026-04", 1, 0, D("0.00")]]


def test_reservation_writes_keep_the_rollup_current_without_a_rebuild(history):
    from crm.services.reservations import reservation_status_change, reservation_update
    from tests.crm.factories import make_reservation

    made = make_reservation(
        property=history["hotel"], guest=history["ana"], arrival=date(2026, 5, 3), nights=4,
        total="400.00", currency="EUR", channel="OTA", market_code="LEI",
    )  # fmt: skip
    reservation_update(reservation=made, actor=SYSTEM, arrival=date(2026, 6, 1),
                       departure=date(2026, 6, 3))  # fmt: skip
    reservation_status_change(
        reservation=Reservation.objects.get(pk=made.pk), status="cancelled", actor=SYSTEM
    )

    from_rollup = report_run(actor=SYSTEM, name="cancellations", filters=Filters())
    assert from_rollup["rows"][-1] == ["2026-06", 1, 1, 0, D("1.0000"), D("0.0000")]
    assert [r[0] for r in from_rollup["rows"]] == ["2026-03", "2026-04", "2026-06"]
    assert from_rollup == report_run(
        actor=SYSTEM, name="cancellations", filters=Filters(), source="base"
    )


def test_rfm_movement_counts_each_guests_move_since_last_month(hotel):
    from collections import Counter

    from crm.analytics.models import SegmentSnapshot

    early, late = guests_bulk(2)
    stays_bulk(
        [{"property": hotel, "guest": early, "arrival": date(2026, 10, 1) - timedelta(days=d)}
         for d in (10, 60, 120)]
        + [{"property": hotel, "guest": late, "arrival": date(2026, 3, 1)}]
    )  # fmt: skip
    scores_refresh(actor=SYSTEM, today=date(2026, 10, 15))
    [newcomer] = guests_bulk(1)
    stays_bulk(
        [{"property": hotel, "guest": g, "arrival": date(2026, 11, 10)} for g in (late, newcomer)]
    )
    scores_refresh(actor=SYSTEM, today=date(2026, 11, 20))
    scores_refresh(actor=SYSTEM, today=date(2026, 11, 21))  # the month's last run counts

    report = run("rfm_movement")

    before = dict(
        SegmentSnapshot.objects.filter(month=date(2026, 10, 1)).values_list("guest", "segment")
    )
    now = SegmentSnapshot.objects.filter(month=date(2026, 11, 1)).values_list("guest", "segment")
    expected = Counter((before.get(g, ""), s) for g, s in now)
    assert report["columns"] == ["month", "from", "to", "guests"]
    assert {(r[1], r[2]): r[3] for r in report["rows"]} == dict(expected)
    assert {r[0] for r in report["rows"]} == {"2026-11"} and sum(expected.values()) == 3
    assert ("", now.get(guest=newcomer.pk)[1]) in expected  # new this month
    assert before[late.pk] != now.get(guest=late.pk)[1]  # came back: a move
    october = run("rfm_movement", end=date(2026, 10, 31))["rows"]
    first = Counter(("", s) for s in before.values())  # nothing scored in September
    assert {(r[1], r[2]): r[3] for r in october} == dict(first)
    assert {r[0] for r in october} == {"2026-10"}
