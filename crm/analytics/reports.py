"""The reports, each one SQL query over the reservations (and the guests and their
scores), with the same filters and the same money rule: amounts in the tenant's base
currency through the latest exchange rate on or before arrival. A reservation in a
currency without a rate adds no money and is counted in ``unconverted``, so a figure is
never silently wrong.

Each report answers ``{"name", "currency", "columns", "rows", "unconverted"}``; rows are
lists in the order of ``columns`` (what the CSV export writes as is)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from crm.analytics.models import Segment
from crm.services.common import tenant_base_currency
from tenants.access.principal import Principal


@dataclass(frozen=True)
class Filters:
    start: date | None = None  # arrivals from this day
    end: date | None = None  # arrivals up to this day, included
    property: int | None = None
    channel: str | None = None
    market_code: str | None = None
    source: str | None = None
    room_type: int | None = None
    rate_plan: int | None = None
    nationality: str | None = None
    segment: str | None = None
    hotels: frozenset[int] | None = field(default=None)  # the principal's hotel scope

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and k != "hotels"}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in out.items()}


# The value of a reservation in the base currency (NULL without a rate).
VALUE = """r.total_amount * CASE WHEN r.currency = %(base)s THEN 1 ELSE (
    SELECT e.rate FROM crm_exchangerate e
    WHERE e.currency = r.currency AND e.base_currency = %(base)s AND e.valid_from <= r.arrival
    ORDER BY e.valid_from DESC LIMIT 1) END"""

# Reservations that happen (not cancelled, not a no-show): what nights and revenue count.
HAPPENS = "r.status NOT IN ('cancelled', 'no_show')"


def _where(filters: Filters, params: dict[str, Any]) -> str:
    clauses = ["TRUE"]
    for column, value, name in (
        ("r.arrival >=", filters.start, "start"),
        ("r.arrival <=", filters.end, "end"),
        ("r.property_id =", filters.property, "property"),
        ("r.channel =", filters.channel, "channel"),
        ("r.market_code =", filters.market_code, "market_code"),
        ("r.source_of_business =", filters.source, "source"),
        ("r.room_type_id =", filters.room_type, "room_type"),
        ("r.rate_plan_id =", filters.rate_plan, "rate_plan"),
        ("g.nationality =", filters.nationality, "nationality"),
        ("s.segment =", filters.segment, "segment"),
    ):
        if value is not None:
            clauses.append(f"{column} %({name})s")
            params[name] = value
    if filters.hotels is not None:
        clauses.append("r.property_id = ANY(%(hotels)s)")
        params["hotels"] = sorted(filters.hotels)
    return " AND ".join(clauses)


def _bucket_case(expression: str, buckets) -> str:
    whens = " ".join(
        f"WHEN {expression} >= {low}"
        + (f" AND {expression} <= {high}" if high is not None else "")
        + f" THEN '{name}'"
        for low, high, name in buckets
    )
    return f"CASE {whens} END"


def _base(filters: Filters, params: dict[str, Any]) -> str:
    """The filtered reservations, one row each, in the shape the rollup has (so a report
    reads either): its value in the base currency, nights, buckets, guest and segment.
    The booking window is the days between the record's creation (UTC) and arrival; a
    booking recorded after its arrival (a walk-in entered late) counts as 0."""
    return f"""
        SELECT b.*, 1 AS bookings, b.nights AS room_nights,
               (b.value IS NULL)::int AS unconverted,
               {_bucket_case("greatest(b.arrival - b.created::date, 0)", WINDOWS)}
                   AS window_bucket,
               {_bucket_case("b.nights", STAY_LENGTHS)} AS los_bucket
        FROM (
            SELECT r.*, ({VALUE}) AS value, r.departure - r.arrival AS nights,
                   g.nationality, g.language, coalesce(s.segment, '') AS segment
            FROM crm_reservation r
            JOIN crm_guest g ON g.id = r.guest_id
            LEFT JOIN analytics_guestscore s ON s.guest_id = r.guest_id
            WHERE {_where(filters, params)}
        ) b
    """


ROLLUP_KEYS = (
    "arrival, property_id, channel, market_code, source_of_business, room_type_id, "
    "rate_plan_id, status, window_bucket, los_bucket"
)


def _rollup(filters: Filters, params: dict[str, Any]) -> str:
    """The same shape from the rollup (filters on the guest are not in it)."""
    return f"""
        SELECT {ROLLUP_KEYS}, bookings, room_nights, value, unconverted
        FROM analytics_rollup r WHERE {_where(filters, params)}
    """


def rollup_select(filters: Filters, params: dict[str, Any]) -> str:
    """What the rollup holds for the reservations ``filters`` select, grouped."""
    return f"""
        SELECT {ROLLUP_KEYS}, sum(bookings), sum(room_nights), sum(value), sum(unconverted)
        FROM ({_base(filters, params)}) b GROUP BY {ROLLUP_KEYS}
    """


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _ratio(part: Any, whole: Any) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def _query(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _bookings_by_month(base: str, params: dict) -> tuple[list[str], list[list]]:
    rows = _query(
        f"""
        SELECT to_char(date_trunc('month', arrival), 'YYYY-MM') AS month, sum(bookings),
               coalesce(sum(room_nights) FILTER (WHERE {HAPPENS}), 0),
               sum(value) FILTER (WHERE {HAPPENS})
        FROM ({base}) r GROUP BY 1 ORDER BY 1
        """,
        params,
    )
    return ["month", "bookings", "room_nights", "revenue"], [
        [m, n, nights, _money(v)] for m, n, nights, v in rows
    ]


def _cancellations(base: str, params: dict) -> tuple[list[str], list[list]]:
    rows = _query(
        f"""
        SELECT to_char(date_trunc('month', arrival), 'YYYY-MM'), sum(bookings),
               coalesce(sum(bookings) FILTER (WHERE status = 'cancelled'), 0),
               coalesce(sum(bookings) FILTER (WHERE status = 'no_show'), 0)
        FROM ({base}) r GROUP BY 1 ORDER BY 1
        """,
        params,
    )
    return ["month", "bookings", "cancelled", "no_show", "cancellation_rate", "no_show_rate"], [
        [m, n, c, ns, _ratio(c, n), _ratio(ns, n)] for m, n, c, ns in rows
    ]


def _revenue_by_segment(base: str, params: dict) -> tuple[list[str], list[list]]:
    rows = _query(
        f"""
        SELECT market_code, sum(bookings), sum(room_nights), sum(value)
        FROM ({base}) r WHERE {HAPPENS} GROUP BY 1 ORDER BY 1
        """,
        params,
    )
    return ["market_code", "bookings", "room_nights", "revenue", "adr"], [
        [code, n, nights, _money(v), _money(Decimal(v or 0) / nights) if nights else None]
        for code, n, nights, v in rows
    ]


WINDOWS = ((0, 0, "0"), (1, 7, "1-7"), (8, 30, "8-30"), (31, 90, "31-90"), (91, None, "91+"))
STAY_LENGTHS = ((1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 6, "4-6"), (7, None, "7+"))


def _buckets(column: str, buckets, base: str, params: dict, label: str):
    rows = dict(
        _query(
            f"SELECT {column}, sum(bookings) FROM ({base}) r WHERE {HAPPENS} GROUP BY 1",
            params,
        )
    )
    total = sum(rows.values())
    return [label, "bookings", "share"], [
        [name, rows.get(name, 0), _ratio(rows.get(name, 0), total)] for _, _, name in buckets
    ]


def _booking_window(base: str, params: dict):
    return _buckets("window_bucket", WINDOWS, base, params, "days_before_arrival")


def _length_of_stay(base: str, params: dict):
    return _buckets("los_bucket", STAY_LENGTHS, base, params, "nights")


def _repeat_guests(base: str, params: dict):
    # A guest who stayed in the period is a repeat guest when they have another stay
    # (any hotel, any filter) that arrived before this period's last stay of theirs.
    rows = _query(
        f"""
        WITH stayed AS (
            SELECT guest_id, max(arrival) AS last FROM ({base}) r
            WHERE status IN ('in_house', 'checked_out') GROUP BY guest_id
        )
        SELECT count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM crm_reservation o
            WHERE o.guest_id = stayed.guest_id AND o.status IN ('in_house', 'checked_out')
              AND o.arrival < stayed.last))
        FROM stayed
        """,
        params,
    )
    guests, repeat = rows[0]
    return ["guests", "repeat_guests", "repeat_rate"], [[guests, repeat, _ratio(repeat, guests)]]


def _guest_mix(base: str, params: dict):
    rows = _query(
        f"""
        SELECT nationality, language, count(DISTINCT guest_id), count(*)
        FROM ({base}) r WHERE {HAPPENS} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
        """,
        params,
    )
    return ["nationality", "language", "guests", "bookings"], [list(r) for r in rows]


def _score_where(filters: Filters, params: dict) -> str:
    clauses = ["g.erased_at IS NULL"]
    if filters.nationality is not None:
        clauses.append("g.nationality = %(nationality)s")
        params["nationality"] = filters.nationality
    if filters.segment is not None:
        clauses.append("s.segment = %(segment)s")
        params["segment"] = filters.segment
    if filters.hotels is not None:
        clauses.append(
            "(EXISTS (SELECT 1 FROM crm_reservation r WHERE r.guest_id = g.id"
            " AND r.property_id = ANY(%(hotels)s))"
            " OR NOT EXISTS (SELECT 1 FROM crm_reservation r WHERE r.guest_id = g.id))"
        )
        params["hotels"] = sorted(filters.hotels)
    return " AND ".join(clauses)


def _rfm_segments(filters: Filters, params: dict):
    rows = dict(
        _query(
            f"""SELECT s.segment, count(*) FROM analytics_guestscore s
                JOIN crm_guest g ON g.id = s.guest_id
                WHERE s.segment <> '' AND {_score_where(filters, params)} GROUP BY 1""",
            params,
        )
    )
    total = sum(rows.values())
    return ["segment", "label", "guests", "share"], [
        [key, str(label), rows.get(key, 0), _ratio(rows.get(key, 0), total)]
        for key, label in Segment.choices
    ]


def _rfm_movement(filters: Filters, params: dict):
    # The month of ``end`` (or the latest month scored) against the month before: how
    # many guests went from each segment to each other ("" from: not scored before).
    month_sql = "date_trunc('month', %(end)s::date)::date" if filters.end else (
        "(SELECT max(month) FROM analytics_segmentsnapshot)"
    )  # fmt: skip
    if filters.end:
        params["end"] = filters.end
    where = _score_where(Filters(nationality=filters.nationality, hotels=filters.hotels), params)
    rows = _query(
        f"""
        WITH m AS (SELECT {month_sql} AS month)
        SELECT to_char(m.month, 'YYYY-MM'), coalesce(p.segment, ''), s.segment, count(*)
        FROM m
        JOIN analytics_segmentsnapshot s ON s.month = m.month
        JOIN crm_guest g ON g.id = s.guest_id
        LEFT JOIN analytics_segmentsnapshot p
            ON p.guest_id = s.guest_id AND p.month = (m.month - interval '1 month')::date
        WHERE {where}
        GROUP BY 1, 2, 3 ORDER BY 2, 3
        """,
        params,
    )
    return ["month", "from", "to", "guests"], [list(r) for r in rows]


RISK_BUCKETS = ((0, "0.0-0.2"), (1, "0.2-0.4"), (2, "0.4-0.6"), (3, "0.6-0.8"), (4, "0.8-1.0"))


def _churn_risk(filters: Filters, params: dict):
    rows = _query(
        f"""SELECT least(floor(s.churn_risk * 5), 4)::int, s.churn_source, count(*)
            FROM analytics_guestscore s JOIN crm_guest g ON g.id = s.guest_id
            WHERE s.churn_risk IS NOT NULL AND {_score_where(filters, params)}
            GROUP BY 1, 2""",
        params,
    )
    counts = {(b, src): n for b, src, n in rows}
    return ["risk", "model", "rules"], [
        [label, counts.get((b, "model"), 0), counts.get((b, "rules"), 0)]
        for b, label in RISK_BUCKETS
    ]


# Reports the rollup can answer (no distinct guests), unless a filter is on the guest.
FROM_ROLLUP = frozenset(
    {"bookings_by_month", "cancellations", "revenue_by_segment", "booking_window",
     "length_of_stay"}
)  # fmt: skip

_ON_RESERVATIONS = {
    "bookings_by_month": _bookings_by_month,
    "cancellations": _cancellations,
    "revenue_by_segment": _revenue_by_segment,
    "booking_window": _booking_window,
    "length_of_stay": _length_of_stay,
    "repeat_guests": _repeat_guests,
    "guest_mix": _guest_mix,
}
_ON_SCORES = {
    "rfm_segments": _rfm_segments,
    "rfm_movement": _rfm_movement,
    "churn_risk": _churn_risk,
}
NAMES = tuple(_ON_RESERVATIONS) + tuple(_ON_SCORES)


def report_run(
    *, actor: Principal, name: str, filters: Filters, source: str = "auto"
) -> dict[str, Any]:
    """``source``: ``rollup`` or ``base`` (the raw tables), or ``auto``: the rollup
    whenever it can answer."""
    actor.require("analytics_report", "view")
    if name not in NAMES:
        from tenants.errors import NotFound

        raise NotFound(f"There is no report {name!r}.", field="name")
    if filters.start and filters.end and filters.end < filters.start:
        raise ValidationError({"end": "The end of the period comes before its start."})
    hotels = actor.property_ids()
    if hotels is not None:
        filters = Filters(**{**filters.__dict__, "hotels": frozenset(hotels)})
    base_currency = tenant_base_currency()
    params: dict[str, Any] = {"base": base_currency}
    unconverted = 0
    if name in _ON_RESERVATIONS:
        rollup = (
            name in FROM_ROLLUP
            and filters.nationality is None
            and filters.segment is None
            and source != "base"
        )
        base = _rollup(filters, params) if rollup else _base(filters, params)
        columns, rows = _ON_RESERVATIONS[name](base, params)
        [(unconverted,)] = _query(f"SELECT coalesce(sum(unconverted), 0) FROM ({base}) r", params)
    else:
        columns, rows = _ON_SCORES[name](filters, params)
    return {
        "name": name,
        "filters": filters.as_dict(),
        "currency": base_currency,
        "columns": columns,
        "rows": rows,
        "unconverted": unconverted,
    }


# What a warning rule can watch: one figure of the filtered reservations.
MEASURES = {
    "bookings": "count(*)",
    "room_nights": f"sum(nights) FILTER (WHERE {HAPPENS})",
    "revenue": f"sum(value) FILTER (WHERE {HAPPENS})",
    "adr": f"sum(value) FILTER (WHERE {HAPPENS}) / nullif(sum(nights) FILTER (WHERE {HAPPENS}), 0)",
    "cancellation_rate": "(count(*) FILTER (WHERE status = 'cancelled'))::numeric "
    "/ nullif(count(*), 0)",
    "no_show_rate": "(count(*) FILTER (WHERE status = 'no_show'))::numeric / nullif(count(*), 0)",
}


def measure_value(*, measure: str, filters: Filters) -> Decimal | None:
    """One measure of the reservations the filters select (None: nothing to measure)."""
    params: dict[str, Any] = {"base": tenant_base_currency()}
    base = _base(filters, params)
    [(value,)] = _query(f"SELECT {MEASURES[measure]} FROM ({base}) r", params)
    return Decimal(value).quantize(Decimal("0.0001")) if value is not None else None
