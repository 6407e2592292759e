"""The analytics module (issue 19), each figure beside raw PostgreSQL in the same run:

1. The nightly run (``crm.analytics.tasks.analytics_refresh``: churn model training,
   rollup rebuild, scoring of every guest, warnings), called in-process as a worker runs
   the task; baseline: RFM quintiles and segments of every guest computed from the
   reservations with ``ntile`` in one ``INSERT ... SELECT``.
2. Every report of the registry (``crm.analytics.reports.NAMES``) through
   ``GET /api/v1/analytics/reports/{name}/``, p50; baselines: the same figures by raw
   SQL over the rollup (and score) tables, and by raw SQL over the base tables
   (reservations, guests).
3. The rollup's lag after a reservation write: a reservation written through the
   service (``reservation_create``), then the report read through the API until it
   counts the booking. The rollup is refreshed by the reservation's record event inside
   the writer's transaction (``crm.analytics.events``), so no task is involved; the
   baseline inserts the reservation, recomputes its day and hotel's rollup rows, commits
   and reads them back, raw.

Guests and reservations are copied in SQL (``INSERT ... SELECT generate_series``) from a
guest and a reservation made through the services."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import psycopg
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from saas.bench import Figure, Timer, bench_tenant, columns_of, p50, p95
from saas.bench.api import _conninfo
from tenants.access.principal import Principal
from tenants.models import Tenant

BENCH = Principal.system("benchmark")

# guests, hotels (every fourth one in GBP, the others in the base currency EUR). Each
# guest has 1-6 reservations (3.5 on average before those arriving more than 300 days
# ahead are dropped: about 3).
SCALES = {"small": (50_000, 4), "large": (1_000_000, 20)}
READS = 30
WRITES = 20
NATIONALITIES = ["PT", "ES", "FR", "DE", "GB", "US", "CN", "BR"]
LANGUAGES = ["pt", "es", "fr", "de", "en", "en", "zh", "pt"]
CHANNELS = ["direct", "booking.com", "expedia", "gds", "phone"]
MARKETS = ["LEI", "COR", "GRP", "GOV", "PKG", "OTA"]
SOURCES = ["web", "call", "walkin", "agent"]
HAPPENS = "status NOT IN ('cancelled', 'no_show')"


def _tenant():
    return bench_tenant("benchana", "Analytics Bench")


def _listed(cols: list[str], alias: str = "") -> str:
    return ", ".join(f'{alias}"{c}"' for c in cols)


def _prepare(guests: int, hotels: int, log) -> dict:
    """The group's hotels (three room types and rate plans each), a GBP rate, and
    ``guests`` guests with their reservations and stay rows; guest statistics refreshed
    through crm's own function (one UPDATE per 100,000 guests)."""
    from crm.models import Guest, Reservation
    from crm.services.guests import guest_create, guest_statistics_refresh
    from crm.services.properties import (
        exchange_rate_set,
        property_create,
        rate_plan_create,
        room_type_create,
    )
    from crm.services.reservations import reservation_create
    from metadata.services.modules import module_set_enabled

    module_set_enabled(key="analytics", enabled=True, actor=BENCH)
    today = timezone.localdate()
    for year in range(5):
        exchange_rate_set(
            currency="GBP", base_currency="EUR", rate=Decimal("1.15") + Decimal(year) / 100,
            valid_from=date(today.year - 5 + year, 1, 1), actor=BENCH,
        )  # fmt: skip
    properties, room_types, rate_plans, currencies = [], [], [], []
    for h in range(hotels):
        currency = "GBP" if h % 4 == 3 else "EUR"
        hotel = property_create(
            code=f"AN{h:02d}", name=f"Analytics Hotel {h}", country="PT", currency=currency,
            timezone="Europe/Lisbon", actor=BENCH,
        )  # fmt: skip
        properties.append(hotel)
        currencies.append(currency)
        for code in ("DBL", "KING", "SUITE"):
            room_types.append(
                room_type_create(property=hotel, code=code, name=code, actor=BENCH).pk
            )
        for code in ("FLEX", "CORP", "PKG"):
            rate_plans.append(
                rate_plan_create(property=hotel, code=code, name=code, actor=BENCH).pk
            )
    template_guest = guest_create(given_name="Ana", surname="Template", actor=BENCH)
    template = reservation_create(
        property=properties[0], guest=template_guest, confirmation_number="AN-TEMPLATE",
        arrival=today - timedelta(days=40), departure=today - timedelta(days=38),
        total_amount=Decimal("200.00"), status=Reservation.Status.CHECKED_OUT, actor=BENCH,
    )  # fmt: skip
    log(f"analytics: copying {guests:,} guests and their reservations")
    guest_cols = columns_of(Guest, {"id", "surname", "nationality", "language", "vip_level"})
    copied = {
        "id", "guest_id", "property_id", "confirmation_number", "status", "channel",
        "market_code", "source_of_business", "arrival", "departure", "room_type_id",
        "rate_plan_id", "total_amount", "currency", "created", "cancelled_at",
    }  # fmt: skip
    stay_cols = columns_of(Reservation, copied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO crm_guest ({_listed(guest_cols)}, surname, nationality, language, "
            f"vip_level) SELECT {_listed(guest_cols)}, 'Ana' || lpad(n::text, 7, '0'), "
            "(%s::text[])[n %% 8 + 1], (%s::text[])[n %% 8 + 1], "
            "CASE WHEN n %% 50 = 0 THEN 3 ELSE 0 END "
            "FROM crm_guest, generate_series(1, %s) AS n WHERE crm_guest.id = %s",
            [NATIONALITIES, LANGUAGES, guests, template_guest.pk],
        )
        # Guest k returns every 45, 120 or 300 days from a start in the last four years;
        # past stays are checked out (8% cancelled, 2% no-shows), current ones in house,
        # future ones reserved; the booking window is 0-199 days.
        cursor.execute(
            f"""
            WITH g AS (
                SELECT id, n AS k FROM (
                    SELECT id, (row_number() OVER (ORDER BY id))::int AS n FROM crm_guest
                    WHERE surname LIKE 'Ana0%%') x
            ), s AS (
                SELECT g.id AS guest_id, g.k, j,
                       (g.k * 3 + j * 5) %% 9 + 1 AS nights,
                       (g.k * 13 + j * 7) %% 100 AS h,
                       (g.k + j * 3) %% %(hotels)s AS hotel,
                       %(today)s::date - 1460 + (g.k * 7919) %% 1460
                           + j * (ARRAY[45, 120, 300])[g.k %% 3 + 1] AS arrival
                FROM g, generate_series(0, g.k %% 6) AS j
            )
            INSERT INTO crm_reservation ({_listed(stay_cols)}, guest_id, property_id,
                confirmation_number, status, channel, market_code, source_of_business,
                arrival, departure, room_type_id, rate_plan_id, total_amount, currency,
                created, cancelled_at)
            SELECT {_listed(stay_cols, "t.")}, s.guest_id, (%(properties)s::bigint[])[s.hotel + 1],
                'AN-' || s.guest_id || '-' || s.j,
                CASE WHEN s.h < 8 THEN 'cancelled'
                     WHEN s.arrival + s.nights <= %(today)s AND s.h < 10 THEN 'no_show'
                     WHEN s.arrival + s.nights <= %(today)s THEN 'checked_out'
                     WHEN s.arrival <= %(today)s THEN 'in_house'
                     ELSE 'reserved' END,
                (%(channels)s::text[])[(s.k + s.j) %% 5 + 1],
                (%(markets)s::text[])[(s.k * 7 + s.j) %% 6 + 1],
                (%(sources)s::text[])[(s.k + s.j * 11) %% 4 + 1],
                s.arrival, s.arrival + s.nights,
                (%(room_types)s::bigint[])[s.hotel * 3 + (s.k + s.j) %% 3 + 1],
                (%(rate_plans)s::bigint[])[s.hotel * 3 + (s.k * 5 + s.j) %% 3 + 1],
                s.nights * (80 + (s.k * 17 + s.j * 29) %% 220),
                (%(currencies)s::text[])[s.hotel + 1],
                (s.arrival - (s.k * 11 + s.j * 37) %% 200)::timestamptz + interval '10 hours',
                CASE WHEN s.h < 8 THEN (s.arrival - 3)::timestamptz END
            FROM crm_reservation t, s
            WHERE t.id = %(template)s AND s.arrival <= %(today)s::date + 300
            """,
            {
                "hotels": hotels,
                "today": today,
                "properties": [p.pk for p in properties],
                "channels": CHANNELS,
                "markets": MARKETS,
                "sources": SOURCES,
                "room_types": room_types,
                "rate_plans": rate_plans,
                "currencies": currencies,
                "template": template.pk,
            },
        )
        reservations = cursor.rowcount
        cursor.execute(
            "INSERT INTO crm_reservationguest (reservation_id, guest_id, is_primary) "
            "SELECT id, guest_id, true FROM crm_reservation WHERE confirmation_number LIKE 'AN-%%' "
            "AND id <> %s",
            [template.pk],
        )
        cursor.execute("ANALYZE crm_guest; ANALYZE crm_reservation; ANALYZE crm_reservationguest")
        cursor.execute("SELECT id FROM crm_guest WHERE surname LIKE 'Ana0%%' ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    log(f"analytics: {reservations:,} reservations; refreshing guest statistics")
    for start in range(0, len(ids), 100_000):
        guest_statistics_refresh(guest_ids=ids[start : start + 100_000])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_guest")
    return {
        "reservations": reservations + 1,
        "guests": guests + 1,
        "properties": [p.pk for p in properties],
        "guest_ids": ids,
    }


# --- 1. the nightly run ------------------------------------------------------------------

RAW_RFM_TABLE = (
    "CREATE UNLOGGED TABLE bench_rfm (guest_id bigint, r int, f int, m int, "
    "revenue numeric, segment text)"
)
RAW_RFM = """
INSERT INTO bench_rfm
WITH s AS (
    SELECT rg.guest_id, count(*) AS stays, max(r.arrival) AS last_stay,
           sum(CASE WHEN r.guest_id = rg.guest_id THEN r.total_amount * CASE
               WHEN r.currency = %(base)s THEN 1 ELSE (
                   SELECT e.rate FROM crm_exchangerate e
                   WHERE e.currency = r.currency AND e.base_currency = %(base)s
                     AND e.valid_from <= r.arrival ORDER BY e.valid_from DESC LIMIT 1) END
           END) AS revenue
    FROM crm_reservationguest rg JOIN crm_reservation r ON r.id = rg.reservation_id
    WHERE r.status IN ('in_house', 'checked_out')
    GROUP BY rg.guest_id
), q AS (
    SELECT s.*, ntile(5) OVER (ORDER BY s.last_stay, s.guest_id) AS r,
           ntile(5) OVER (ORDER BY s.stays, s.guest_id) AS f,
           ntile(5) OVER (ORDER BY s.revenue, s.guest_id) AS m
    FROM s JOIN crm_guest g ON g.id = s.guest_id AND g.erased_at IS NULL
)
SELECT guest_id, r, f, m, revenue,
       CASE WHEN r >= 4 AND f >= 4 THEN 'champions' WHEN r >= 4 AND stays = 1 THEN 'new'
            WHEN r >= 3 AND f >= 3 THEN 'loyal' WHEN r >= 3 THEN 'potential'
            WHEN f >= 3 THEN 'at_risk' WHEN r = 2 THEN 'hibernating' ELSE 'lost' END AS segment
FROM q
"""


def _nightly(tenant: Tenant, data: dict, log) -> list[Figure]:
    from crm.analytics import tasks
    from crm.analytics.services import churn, rollup, scores, warnings

    parts: dict[str, float] = {}

    def timed(module, name: str):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                parts[name] = time.perf_counter() - started

        return mock.patch.object(module, name, wrapper)

    log("analytics: the nightly run (train, rollup, score, warnings)")
    with ExitStack() as stack:
        for module, name in (
            (churn, "churn_model_train"),
            (rollup, "rollup_rebuild"),
            (scores, "scores_refresh"),
            (warnings, "warnings_check"),
        ):
            stack.enter_context(timed(module, name))
        with Timer() as nightly:
            # The task's body, in this process, as a worker runs it (no broker between).
            out = tasks.analytics_refresh(tenant.schema_name)
    assert out.get("churn_model", {}).get("status") == "trained", out
    log(f"analytics: nightly run {nightly.seconds:.1f} s: {out}")
    with psycopg.connect(_conninfo(), autocommit=True) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        conn.execute(RAW_RFM_TABLE)
        with Timer() as raw:
            conn.execute(RAW_RFM, {"base": "EUR"})
        [(raw_rows,)] = conn.execute("SELECT count(*) FROM bench_rfm").fetchall()
        conn.execute("DROP TABLE bench_rfm")
    assert raw_rows == out["with_stays"], (raw_rows, out)
    scale = f"{data['guests']:,} guests, {data['reservations']:,} reservations"
    figures = [
        Figure(
            name=f"Nightly analytics run, {scale}",
            value=round(nightly.seconds, 2),
            unit="s",
            baseline=round(raw.seconds, 2),
            target="< 300",
            notes=f"analytics_refresh (train, rollup, score every guest, warnings): {out}; "
            "target set for 1M guests on 2 cores, indicative at smaller scales; baseline: "
            "RFM quintiles and segment of every guest with a stay, from the reservations "
            "(ntile), written to an unlogged table in one statement",
        )
    ]
    for name, label in (
        ("churn_model_train", "churn model training (two fits, evaluation)"),
        ("rollup_rebuild", "rollup rebuild"),
        ("scores_refresh", "scoring every guest (RFM, churn, offers, snapshots)"),
        ("warnings_check", "warnings check (no rules)"),
    ):
        figures.append(
            Figure(
                name=f"Nightly run part: {label}",
                value=round(parts[name], 2),
                unit="s",
                baseline=round(raw.seconds, 2) if name == "scores_refresh" else None,
            )
        )
    return figures


# --- 2. the reports ----------------------------------------------------------------------

# The reservations of the period with their value in the base currency (raw, no join
# the figures do not need).
_VALUED = """
    SELECT r.*, r.departure - r.arrival AS nights, r.total_amount * CASE
        WHEN r.currency = %(base)s THEN 1 ELSE (
            SELECT e.rate FROM crm_exchangerate e
            WHERE e.currency = r.currency AND e.base_currency = %(base)s
              AND e.valid_from <= r.arrival ORDER BY e.valid_from DESC LIMIT 1) END AS value
    FROM crm_reservation r WHERE r.arrival BETWEEN %(start)s AND %(end)s
"""
_ROLLUP = "SELECT * FROM analytics_rollup WHERE arrival BETWEEN %(start)s AND %(end)s"
_WINDOW = (
    "CASE WHEN w = 0 THEN '0' WHEN w <= 7 THEN '1-7' WHEN w <= 30 THEN '8-30' "
    "WHEN w <= 90 THEN '31-90' ELSE '91+' END"
)
_LOS = (
    "CASE WHEN nights <= 1 THEN '1' WHEN nights = 2 THEN '2' WHEN nights = 3 THEN '3' "
    "WHEN nights <= 6 THEN '4-6' ELSE '7+' END"
)
_REPEAT = """
    WITH stayed AS (
        SELECT guest_id, max(arrival) AS last FROM crm_reservation
        WHERE arrival BETWEEN %(start)s AND %(end)s AND status IN ('in_house', 'checked_out')
        GROUP BY guest_id)
    SELECT count(*), count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM crm_reservation o WHERE o.guest_id = stayed.guest_id
          AND o.status IN ('in_house', 'checked_out') AND o.arrival < stayed.last))
    FROM stayed
"""
_MIX = f"""
    SELECT g.nationality, g.language, count(DISTINCT r.guest_id), count(*)
    FROM crm_reservation r JOIN crm_guest g ON g.id = r.guest_id
    WHERE r.arrival BETWEEN %(start)s AND %(end)s AND r.{HAPPENS}
    GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
"""
_UNCONVERTED_BASE = f"SELECT count(*) FILTER (WHERE value IS NULL) FROM ({_VALUED}) v"
_UNCONVERTED_ROLLUP = f"SELECT coalesce(sum(unconverted), 0) FROM ({_ROLLUP}) v"

_REPEAT_ALL = [_REPEAT, _UNCONVERTED_BASE]
_MIX_ALL = [_MIX, _UNCONVERTED_BASE]

# name: (SQL over the rollup or score tables, SQL over the base tables); each list is run
# in order on one connection. Reports the rollup cannot answer (distinct guests) have
# the base-table SQL in both; the score reports have no base-table form (their base is
# the nightly scoring itself).
RAW_REPORTS: dict[str, tuple[list[str], list[str] | None]] = {
    "bookings_by_month": (
        [
            f"SELECT to_char(date_trunc('month', arrival), 'YYYY-MM'), sum(bookings), "
            f"sum(room_nights) FILTER (WHERE {HAPPENS}), sum(value) FILTER (WHERE {HAPPENS}) "
            f"FROM ({_ROLLUP}) v GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_ROLLUP,
        ],
        [
            f"SELECT to_char(date_trunc('month', arrival), 'YYYY-MM'), count(*), "
            f"sum(nights) FILTER (WHERE {HAPPENS}), sum(value) FILTER (WHERE {HAPPENS}) "
            f"FROM ({_VALUED}) v GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_BASE,
        ],
    ),
    "cancellations": (
        [
            "SELECT to_char(date_trunc('month', arrival), 'YYYY-MM'), sum(bookings), "
            "sum(bookings) FILTER (WHERE status = 'cancelled'), "
            "sum(bookings) FILTER (WHERE status = 'no_show') "
            f"FROM ({_ROLLUP}) v GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_ROLLUP,
        ],
        [
            "SELECT to_char(date_trunc('month', arrival), 'YYYY-MM'), count(*), "
            "count(*) FILTER (WHERE status = 'cancelled'), "
            "count(*) FILTER (WHERE status = 'no_show') "
            f"FROM ({_VALUED}) v GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_BASE,
        ],
    ),
    "revenue_by_segment": (
        [
            f"SELECT market_code, sum(bookings), sum(room_nights), sum(value) "
            f"FROM ({_ROLLUP}) v WHERE {HAPPENS} GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_ROLLUP,
        ],
        [
            f"SELECT market_code, count(*), sum(nights), sum(value) "
            f"FROM ({_VALUED}) v WHERE {HAPPENS} GROUP BY 1 ORDER BY 1",
            _UNCONVERTED_BASE,
        ],
    ),
    "booking_window": (
        [
            f"SELECT window_bucket, sum(bookings) FROM ({_ROLLUP}) v WHERE {HAPPENS} GROUP BY 1",
            _UNCONVERTED_ROLLUP,
        ],
        [
            f"SELECT {_WINDOW}, count(*) FROM (SELECT greatest(arrival - created::date, 0) AS w, "
            f"status FROM crm_reservation WHERE arrival BETWEEN %(start)s AND %(end)s) v "
            f"WHERE {HAPPENS} GROUP BY 1",
            _UNCONVERTED_BASE,
        ],
    ),
    "length_of_stay": (
        [
            f"SELECT los_bucket, sum(bookings) FROM ({_ROLLUP}) v WHERE {HAPPENS} GROUP BY 1",
            _UNCONVERTED_ROLLUP,
        ],
        [
            f"SELECT {_LOS}, count(*) FROM (SELECT departure - arrival AS nights, status "
            f"FROM crm_reservation WHERE arrival BETWEEN %(start)s AND %(end)s) v "
            f"WHERE {HAPPENS} GROUP BY 1",
            _UNCONVERTED_BASE,
        ],
    ),
    "repeat_guests": (_REPEAT_ALL, _REPEAT_ALL),
    "guest_mix": (_MIX_ALL, _MIX_ALL),
    "rfm_segments": (
        [
            "SELECT s.segment, count(*) FROM analytics_guestscore s "
            "JOIN crm_guest g ON g.id = s.guest_id "
            "WHERE s.segment <> '' AND g.erased_at IS NULL GROUP BY 1"
        ],
        None,
    ),
    "rfm_movement": (
        [
            "WITH m AS (SELECT max(month) AS month FROM analytics_segmentsnapshot) "
            "SELECT coalesce(p.segment, ''), s.segment, count(*) FROM m "
            "JOIN analytics_segmentsnapshot s ON s.month = m.month "
            "JOIN crm_guest g ON g.id = s.guest_id AND g.erased_at IS NULL "
            "LEFT JOIN analytics_segmentsnapshot p ON p.guest_id = s.guest_id "
            "AND p.month = (m.month - interval '1 month')::date GROUP BY 1, 2 ORDER BY 1, 2"
        ],
        None,
    ),
    "churn_risk": (
        [
            "SELECT least(floor(s.churn_risk * 5), 4)::int, s.churn_source, count(*) "
            "FROM analytics_guestscore s JOIN crm_guest g ON g.id = s.guest_id "
            "WHERE s.churn_risk IS NOT NULL AND g.erased_at IS NULL GROUP BY 1, 2"
        ],
        None,
    ),
}


def _raw_report(conn, statements: list[str], params: dict) -> tuple[float, list]:
    with Timer() as timer:
        results = [conn.execute(sql, params).fetchall() for sql in statements]
    return timer.ms, results


def _last_month_snapshots(tenant: Tenant) -> None:
    """Last month's segments, so the movement report has two months to compare: this
    month's with a third of the guests one segment along (a second scoring run a month
    earlier would give the same shape)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_segmentsnapshot (guest_id, month, segment) "
            "SELECT guest_id, (month - interval '1 month')::date, CASE WHEN mod(guest_id, 3) = 0 "
            "THEN (ARRAY['champions', 'loyal', 'potential', 'new', 'at_risk', 'hibernating', "
            "'lost'])[mod(guest_id, 7) + 1] ELSE segment END "
            "FROM analytics_segmentsnapshot WHERE month = date_trunc('month', current_date)::date"
        )
        cursor.execute("ANALYZE analytics_segmentsnapshot")


def _reports(tenant: Tenant, client: Client, log) -> list[Figure]:
    from crm.analytics.reports import NAMES

    assert set(NAMES) == set(RAW_REPORTS), set(NAMES) ^ set(RAW_REPORTS)
    today = timezone.localdate()
    start, end = today - timedelta(days=365), today
    params = {"start": start, "end": end, "base": "EUR"}
    query = f"?start={start.isoformat()}&end={end.isoformat()}"
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{tenant.schema_name}".analytics_rollup '
            "WHERE arrival BETWEEN %s AND %s",
            [start, end],
        )
        [rollup_rows] = cursor.fetchone()
        cursor.execute(
            f'SELECT count(*) FROM "{tenant.schema_name}".crm_reservation '
            "WHERE arrival BETWEEN %s AND %s",
            [start, end],
        )
        [base_rows] = cursor.fetchone()
    log(
        f"analytics: {len(NAMES)} reports x {READS} through the API, arrivals of the last "
        f"365 days ({base_rows:,} reservations, {rollup_rows:,} rollup rows)"
    )
    figures = []
    with psycopg.connect(_conninfo(), autocommit=True) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        for name in NAMES:
            path = f"/api/v1/analytics/reports/{name}/{query}"
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            api_ms = []
            for _ in range(READS):
                with Timer() as timer:
                    response = client.get(path)
                assert response.status_code == 200
                api_ms.append(timer.ms)
            on_rollup, on_base = RAW_REPORTS[name]
            _raw_report(conn, on_rollup, params)
            rollup_ms = [_raw_report(conn, on_rollup, params)[0] for _ in range(READS)]
            _check(name, body, _raw_report(conn, on_rollup, params)[1])
            base_ms: list[float] = []
            if on_base is not None and on_base is not on_rollup:
                _raw_report(conn, on_base, params)
                base_ms = [_raw_report(conn, on_base, params)[0] for _ in range(READS)]
                _check(name, body, _raw_report(conn, on_base, params)[1])
            source = (
                "score tables" if on_base is None else
                "base tables (no rollup form)" if on_base is on_rollup else "rollup"
            )  # fmt: skip
            figures.append(
                Figure(
                    name=f"Report {name} p50 (API)",
                    value=round(p50(api_ms), 2),
                    unit="ms",
                    baseline=round(p50(rollup_ms), 2),
                    target="< 300",
                    notes=f"GET /api/v1/analytics/reports/{name}/{query} ({len(body['rows'])} "
                    f"rows), p95 {p95(api_ms):.1f} ms; baseline: the same figures by raw SQL "
                    f"over the {source}"
                    + (f"; over the base tables: {p50(base_ms):.2f} ms" if base_ms else ""),
                )
            )
            if base_ms:
                figures.append(
                    Figure(
                        name=f"Report {name}: raw SQL over the base tables p50",
                        value=round(p50(base_ms), 2),
                        unit="ms",
                        baseline=round(p50(rollup_ms), 2),
                        notes="the reservations of the period valued in SQL; baseline: the "
                        "raw SQL over the rollup",
                    )
                )
    return figures


def _check(name: str, body: dict, raw: list) -> None:
    """The raw SQL gives the API's figures: the same count of bookings (or guests)."""
    rows = raw[0]
    if name in ("bookings_by_month", "cancellations", "revenue_by_segment"):
        assert sum(int(r[1]) for r in rows) == sum(int(r[1]) for r in body["rows"]), name
        assert int(raw[1][0][0]) == body["unconverted"], name
    elif name in ("booking_window", "length_of_stay"):
        assert sum(int(r[1]) for r in rows) == sum(int(r[1]) for r in body["rows"]), name
    elif name == "repeat_guests":
        assert [int(v) for v in rows[0]] == body["rows"][0][:2], name
    elif name == "guest_mix":
        assert sum(int(r[3]) for r in rows) == sum(int(r[3]) for r in body["rows"]), name
    elif name == "rfm_segments":
        assert sum(int(r[1]) for r in rows) == sum(int(r[2]) for r in body["rows"]), name
    elif name == "rfm_movement":
        assert sum(int(r[2]) for r in rows) == sum(int(r[3]) for r in body["rows"]), name
    elif name == "churn_risk":
        assert sum(int(r[2]) for r in rows) == sum(int(r[1]) + int(r[2]) for r in body["rows"])


# --- 3. the rollup's lag after a write ---------------------------------------------------

_RAW_REFRESH = f"""
INSERT INTO analytics_rollup (arrival, property_id, channel, market_code, source_of_business,
    room_type_id, rate_plan_id, status, window_bucket, los_bucket, bookings, room_nights,
    value, unconverted)
SELECT arrival, property_id, channel, market_code, source_of_business, room_type_id,
       rate_plan_id, status, wb, lb, count(*), sum(nights), sum(value),
       count(*) FILTER (WHERE value IS NULL)
FROM (
    SELECT v.*, {_WINDOW} AS wb, {_LOS} AS lb
    FROM (SELECT x.*, greatest(x.arrival - x.created::date, 0) AS w FROM ({_VALUED}) x) v
    WHERE v.property_id = %(hotel)s
) y
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""


def _lag(tenant: Tenant, client: Client, data: dict, log) -> list[Figure]:
    from crm.models import Guest, Property
    from crm.services.reservations import reservation_create

    today = timezone.localdate()
    with tenant_context(tenant):
        hotels = list(Property.objects.filter(pk__in=data["properties"]).order_by("pk"))
        guests = list(Guest.objects.filter(pk__in=data["guest_ids"][:WRITES]).order_by("pk"))

    def booked(hotel_id: int, day: date) -> int:
        response = client.get(
            f"/api/v1/analytics/reports/bookings_by_month/?start={day}&end={day}"
            f"&property={hotel_id}"
        )
        assert response.status_code == 200, response.content[:300]
        return sum(int(row[1]) for row in response.json()["rows"])

    log(f"analytics: {WRITES} reservations written, each until the report shows it")
    lags, reads = [], []
    for i in range(WRITES):
        hotel, day = hotels[i % len(hotels)], today + timedelta(days=20 + i)
        before = booked(hotel.pk, day)
        with Timer() as lag:
            with tenant_context(tenant):
                reservation_create(
                    property=hotel, guest=guests[i], confirmation_number=f"ANLAG-{i}",
                    arrival=day, departure=day + timedelta(days=2),
                    total_amount=Decimal("250.00"), channel="direct", market_code="LEI",
                    actor=BENCH,
                )  # fmt: skip
            polls = 0
            while True:
                polls += 1
                if booked(hotel.pk, day) == before + 1:
                    break
                assert lag.started + 10 > time.perf_counter(), "not shown within 10 s"
                time.sleep(0.01)
        lags.append(lag.ms)
        reads.append(polls)
    raw = []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        conn.commit()
        for i in range(WRITES):
            hotel, day = hotels[i % len(hotels)], today + timedelta(days=20 + i)
            params = {"start": day, "end": day, "hotel": hotel.pk, "base": "EUR"}
            with Timer() as timer:
                [(reservation_id,)] = conn.execute(
                    "INSERT INTO crm_reservation (property_id, guest_id, confirmation_number, "
                    "status, channel, market_code, source_of_business, arrival, departure, "
                    "adults, children, total_amount, currency, custom, created, updated, "
                    "cancellation_reason) VALUES (%s, %s, %s, 'reserved', 'direct', 'LEI', '', "
                    "%s, %s, 1, 0, 250, %s, '{}', now(), now(), '') RETURNING id",
                    [hotel.pk, guests[i].pk, f"ANRAW-{i}", day, day + timedelta(days=2),
                     hotel.currency],
                ).fetchall()  # fmt: skip
                conn.execute(
                    "INSERT INTO crm_reservationguest (reservation_id, guest_id, is_primary) "
                    "VALUES (%s, %s, true)",
                    [reservation_id, guests[i].pk],
                )
                conn.execute(
                    "DELETE FROM analytics_rollup WHERE arrival = %(start)s "
                    "AND property_id = %(hotel)s",
                    params,
                )
                conn.execute(_RAW_REFRESH, params)
                conn.commit()
                [(seen,)] = conn.execute(
                    "SELECT sum(bookings) FROM analytics_rollup WHERE arrival = %s "
                    "AND property_id = %s",
                    [day, hotel.pk],
                ).fetchall()
                conn.commit()
            assert seen and seen >= 2, seen  # at least the service's reservation and this one
            raw.append(timer.ms)
    return [
        Figure(
            name="Rollup lag after a reservation write p50 (service write to API report)",
            value=round(p50(lags), 2),
            unit="ms",
            baseline=round(p50(raw), 2),
            target="< 5000",
            notes=f"reservation_create through the service, then GET bookings_by_month "
            f"for its day and hotel until it counts it ({max(reads)} read(s) at most, max "
            f"{max(lags):.1f} ms); the rollup rows of the day and hotel are recomputed by "
            "the reservation's record event in the writer's transaction, so the first read "
            "after the commit shows it; baseline: raw insert of the reservation and its "
            "stay row, the day and hotel's rollup rows recomputed, commit, read back",
        )
    ]


def run(log) -> list[Figure]:
    from tenants.access.selectors import administrators
    from tenants.integrations.services import api_key_create

    guests, hotels = SCALES.get(os.environ.get("BENCH_SCALE", "small"), SCALES["small"])
    tenant = _tenant()
    host = tenant.get_primary_domain().domain
    with tenant_context(tenant):
        with Timer() as prepared:
            data = _prepare(guests, hotels, log)
        log(f"analytics: data ready in {prepared.seconds:.0f} s")
        figures = _nightly(tenant, data, log)
        _last_month_snapshots(tenant)
        user = administrators().first()
        token = api_key_create(name="bench-analytics", user=user, scopes=["*"], actor=BENCH)
    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    figures += _reports(tenant, client, log)
    figures += _lag(tenant, client, data, log)
    return figures
