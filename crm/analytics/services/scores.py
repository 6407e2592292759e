"""Every guest's scores, recomputed whole: RFM quintiles and segment, historical value,
lifecycle stage, churn risk with its reasons, and next best offers. Running it twice
gives the same rows (it replaces them), so the nightly task may be delivered again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from crm.analytics.features import FEATURES, observations
from crm.analytics.models import ChurnSource, GuestScore, Lifecycle, Segment, SegmentSnapshot
from crm.analytics.offers import CoOccurrence, item_labels, stays_by_guest
from crm.analytics.services.churn import churn_model_usable, months_before, settings_current
from crm.services.bulk import copy_insert
from crm.services.common import tenant_base_currency
from tenants.access.principal import Principal

OFFERS_PER_GUEST = 3
REASONS_PER_GUEST = 3

# Quintiles among guests with a stay: 5 is the most recent / most frequent / highest
# value. Ties are broken by guest id so a run is reproducible.
RFM_SQL = """
SELECT id,
       ntile(5) OVER (ORDER BY last_stay, id) AS r,
       ntile(5) OVER (ORDER BY stays, id) AS f,
       ntile(5) OVER (ORDER BY revenue, id) AS m,
       stays, revenue, last_stay
FROM crm_guest
WHERE stays > 0 AND erased_at IS NULL
"""


def segment_for(*, r: int, f: int, stays: int) -> str:
    """The RFM segment of quintiles ``r`` and ``f`` (monetary orders, it does not name)."""
    if r >= 4 and f >= 4:
        return Segment.CHAMPIONS
    if r >= 4 and stays == 1:
        return Segment.NEW
    if r >= 3 and f >= 3:
        return Segment.LOYAL
    if r >= 3:
        return Segment.POTENTIAL
    if f >= 3:
        return Segment.AT_RISK
    if r == 2:
        return Segment.HIBERNATING
    return Segment.LOST


def lifecycle_for(*, stays: int, last_stay: date | None, today: date, horizon: int) -> str:
    if not stays or last_stay is None:
        return Lifecycle.PROSPECT
    if last_stay >= months_before(today, horizon):
        return Lifecycle.FIRST_STAY if stays == 1 else Lifecycle.ACTIVE
    if last_stay >= months_before(today, 2 * horizon):
        return Lifecycle.LAPSING
    return Lifecycle.LAPSED


def rule_risk(*, recency_days: float, stays: float, horizon_days: int) -> float:
    """The fallback when no model can be trained: risk grows with the days since the last
    stay (1 at twice the horizon) and shrinks with the number of stays."""
    by_recency = min(recency_days / (2 * horizon_days), 1.0)
    return round(by_recency / (1 + 0.25 * max(stays - 1, 0)), 3)


def _reasons(contributions: list[float], values: tuple[float, ...]) -> list[dict]:
    ranked = sorted(
        (c, name, v) for c, name, v in zip(contributions, FEATURES, values, strict=True) if c > 0
    )
    return [
        {"feature": name, "value": round(v, 2), "weight": round(c, 3)}
        for c, name, v in reversed(ranked[-REASONS_PER_GUEST:])
    ]


def _rule_reasons(*, recency_days: float, stays: float, horizon_days: int) -> list[dict]:
    reasons = []
    if recency_days > horizon_days / 2:
        reasons.append({"feature": "recency_days", "value": recency_days, "weight": None})
    if stays <= 1:
        reasons.append({"feature": "stays", "value": stays, "weight": None})
    return reasons


@transaction.atomic
def scores_refresh(*, actor: Principal, today: date | None = None) -> dict[str, int]:
    """Recompute and store every guest's scores; returns counts for the task's log."""
    actor.require_admin("recompute guest scores")
    today = today or timezone.localdate()
    now = timezone.now()
    horizon = settings_current().churn_horizon_months
    horizon_days = (today - months_before(today, horizon)).days
    currency = tenant_base_currency()
    usable = churn_model_usable()

    with connection.cursor() as cursor:
        cursor.execute(RFM_SQL)
        rfm = {row[0]: row[1:] for row in cursor.fetchall()}
    # Stays up to and including today.
    tomorrow = today + timedelta(days=1)
    current = {o.guest_id: o for o in observations(cutoff=tomorrow, until=tomorrow)}
    histories = stays_by_guest()
    recommender = CoOccurrence({g: set().union(*s) for g, s in histories.items()})

    rows: list[GuestScore] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM crm_guest WHERE erased_at IS NULL ORDER BY id")
        guest_ids = cursor.fetchall()
    offers_by_guest = {
        g: recommender.recommend(set().union(*s), OFFERS_PER_GUEST) for g, s in histories.items()
    }
    labels = item_labels(
        {o.item for offers in offers_by_guest.values() for o in offers}
        | {o.because for offers in offers_by_guest.values() for o in offers if o.because}
    )
    for (guest_id,) in guest_ids:
        r, f, m, stays, revenue, last_stay = rfm.get(guest_id, (None,) * 6)
        score = GuestScore(
            guest_id=guest_id,
            recency=r,
            frequency=f,
            monetary=m,
            segment=segment_for(r=r, f=f, stays=stays) if r else "",
            historical_value=Decimal(revenue or 0),
            currency=currency,
            lifecycle=lifecycle_for(
                stays=stays or 0, last_stay=last_stay, today=today, horizon=horizon
            ),
            computed_at=now,
        )
        seen = current.get(guest_id)
        if seen is not None and usable is not None:
            model, fitted = usable
            score.churn_risk = Decimal(str(round(fitted.probability(seen.values), 3)))
            score.churn_source = ChurnSource.MODEL
            score.churn_model_version = model.version
            score.churn_reasons = _reasons(fitted.contributions(seen.values), seen.values)
        elif seen is not None:
            recency_days = seen.feature("recency_days")
            stays_seen = seen.feature("stays")
            risk = rule_risk(recency_days=recency_days, stays=stays_seen, horizon_days=horizon_days)
            score.churn_risk = Decimal(str(risk))
            score.churn_source = ChurnSource.RULES
            score.churn_reasons = _rule_reasons(
                recency_days=recency_days, stays=stays_seen, horizon_days=horizon_days
            )
        score.offers = [
            {
                "kind": o.item[0],
                "id": o.item[1],
                "label": labels.get(o.item, ""),
                "score": o.score,
                "because": {"kind": o.because[0], "id": o.because[1],
                            "label": labels.get(o.because, "")} if o.because else None,
            }
            for o in offers_by_guest.get(guest_id, [])
        ]  # fmt: skip
        rows.append(score)

    # Every guest not erased gets a row, so the table is replaced whole (erased guests
    # keep no scores). COPY, not bulk_create: Django 5.2 sends a bulk insert as one array
    # per column (UNNEST); with each JSON value quoted into a jsonb[] literal it was over
    # half of a profiled scoring at 50,000 guests (issue 19, saas/bench/analytics.py).
    # This month's segments are replaced too (a later run in the month wins). Plain
    # DELETEs: django-tenants listens to every model's post_delete, so a queryset's
    # delete() would read each row back first.
    month = today.replace(day=1)
    with connection.cursor() as cursor:
        # Two refreshes at once take turns here (the second then replaces the first's
        # rows) instead of both copying the same guests into the unique column.
        cursor.execute("LOCK TABLE analytics_guestscore IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("DELETE FROM analytics_guestscore")
        cursor.execute("DELETE FROM analytics_segmentsnapshot WHERE month = %s", [month])
    copy_insert(GuestScore, rows, with_pk=True)
    copy_insert(
        SegmentSnapshot,
        [SegmentSnapshot(guest_id=r.guest_id, month=month, segment=r.segment) for r in rows
         if r.segment],
    )  # fmt: skip
    return {
        "guests": len(rows),
        "with_stays": len(rfm),
        "model_version": usable[0].version if usable else 0,
    }
