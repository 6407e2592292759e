"""A guest's behaviour as of a day, read from the reservations in one query: what the
churn model learns from and scores with. A stay is a reservation in house or checked out
that the guest stays on (as crm's guest statistics count them); its value counts where
the guest is the primary guest, in the base currency through the latest exchange rate
on or before arrival (a currency without a rate adds no value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection

from crm.services.common import tenant_base_currency

FEATURES = (
    "recency_days",
    "stays",
    "avg_nights",
    "log_value",
    "tenure_days",
    "cancellations",
    "vip",
)

STAY_STATUSES = ["in_house", "checked_out"]

_SQL = """
WITH stay AS (
    SELECT rg.guest_id, r.arrival, r.departure - r.arrival AS nights,
           CASE WHEN r.guest_id = rg.guest_id THEN
               r.total_amount * CASE WHEN r.currency = %(base)s THEN 1 ELSE (
                   SELECT e.rate FROM crm_exchangerate e
                   WHERE e.currency = r.currency AND e.base_currency = %(base)s
                     AND e.valid_from <= r.arrival
                   ORDER BY e.valid_from DESC LIMIT 1) END
           END AS value
    FROM crm_reservationguest rg
    JOIN crm_reservation r ON r.id = rg.reservation_id
    WHERE r.status = ANY(%(statuses)s) AND r.arrival < %(until)s
),
past AS (
    SELECT guest_id, %(cutoff)s::date - max(arrival) AS recency_days, count(*) AS stays,
           avg(nights)::float AS avg_nights, coalesce(sum(value), 0)::float AS value,
           %(cutoff)s::date - min(arrival) AS tenure_days
    FROM stay WHERE arrival < %(cutoff)s GROUP BY guest_id
),
cancelled AS (
    SELECT guest_id, count(*) AS n FROM crm_reservation
    WHERE status = 'cancelled' AND arrival < %(cutoff)s GROUP BY guest_id
),
later AS (
    SELECT DISTINCT guest_id FROM stay WHERE arrival >= %(cutoff)s
)
SELECT p.guest_id, p.recency_days, p.stays, p.avg_nights, p.value, p.tenure_days,
       coalesce(c.n, 0), g.vip_level, (l.guest_id IS NULL) AS churned
FROM past p
JOIN crm_guest g ON g.id = p.guest_id AND g.erased_at IS NULL
LEFT JOIN cancelled c ON c.guest_id = p.guest_id
LEFT JOIN later l ON l.guest_id = p.guest_id
ORDER BY p.guest_id
"""


@dataclass(frozen=True)
class Observation:
    guest_id: int
    values: tuple[float, ...]  # in the order of FEATURES
    churned: bool  # no stay from the cut-off until ``until`` (meaningless when scoring)

    def feature(self, name: str) -> float:
        return self.values[FEATURES.index(name)]


def observations(*, cutoff: date, until: date) -> list[Observation]:
    """Every guest with a stay before ``cutoff``: features as of ``cutoff`` and whether
    they stayed again before ``until``."""
    import math

    with connection.cursor() as cursor:
        cursor.execute(
            _SQL,
            {
                "base": tenant_base_currency(),
                "statuses": STAY_STATUSES,
                "cutoff": cutoff,
                "until": until,
            },
        )
        rows = cursor.fetchall()
    return [
        Observation(
            guest_id=row[0],
            values=(
                float(row[1]),
                float(row[2]),
                float(row[3] or 0),
                math.log1p(max(float(row[4] or 0), 0.0)),
                float(row[5]),
                float(row[6]),
                1.0 if (row[7] or 0) > 0 else 0.0,
            ),
            churned=bool(row[8]),
        )
        for row in rows
    ]
