"""The tenant's churn model: trained on its own history with a time split, evaluated on
a later period it never saw, stored as numbers and versioned.

With horizon H months and today T:

* evaluation: fit on the guests as of T - 2H (label: no stay in the H months after),
  measure on the guests as of T - H (label: no stay from then to T);
* the stored model is then fit on the guests as of T - H, the latest fully observed
  period, and scores the guests as of T.

Too little history (fewer than ``MIN_GUESTS`` guests or fewer than ``MIN_CLASS`` churned
or retained guests in either period) gives a ``not_enough_data`` version with the
reason, and scoring falls back to a rule labelled as such."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from crm.analytics.features import FEATURES, Observation, observations
from crm.analytics.models import ChurnModel, Settings
from tenants.access.principal import Principal

MIN_GUESTS = 200
MIN_CLASS = 20
CALIBRATION_BUCKETS = 5


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    import calendar

    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def settings_current() -> Settings:
    found, _ = Settings.objects.get_or_create(pk=1)
    return found


@transaction.atomic
def settings_update(*, actor: Principal, churn_horizon_months: int) -> Settings:
    actor.require_admin("change the analytics settings")
    from django.core.exceptions import ValidationError

    if not 1 <= int(churn_horizon_months) <= 60:
        raise ValidationError({"churn_horizon_months": "Give a number of months from 1 to 60."})
    found = settings_current()
    found.churn_horizon_months = int(churn_horizon_months)
    found.save(update_fields=["churn_horizon_months", "updated"])
    return found


@dataclass(frozen=True)
class Fitted:
    """A fitted model as plain numbers: scoring needs only these."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def contributions(self, values: tuple[float, ...]) -> list[float]:
        return [
            (v - m) / s * c
            for v, m, s, c in zip(values, self.mean, self.scale, self.coef, strict=True)
        ]

    def probability(self, values: tuple[float, ...]) -> float:
        z = self.intercept + sum(self.contributions(values))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def as_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict) -> Fitted:
        return cls(
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
        )


def fit(rows: list[Observation]) -> Fitted:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.array([r.values for r in rows], dtype=float)
    y = np.array([r.churned for r in rows], dtype=int)
    scaler = StandardScaler().fit(x)
    # A constant feature (every guest non-VIP) has scale 0: StandardScaler sets it to 1.
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(x), y)
    return Fitted(
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
        coef=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
    )


def evaluate(fitted: Fitted, rows: list[Observation]) -> dict:
    """AUC, precision at the top decile, base rate and calibration on ``rows``, with the
    naive baselines beside them (a constant: AUC 0.5; recency alone)."""
    from sklearn.metrics import roc_auc_score

    labels = [int(r.churned) for r in rows]
    predicted = [fitted.probability(r.values) for r in rows]
    base_rate = sum(labels) / len(labels)
    ranked = sorted(zip(predicted, labels, strict=True), key=lambda p: -p[0])
    top = ranked[: max(1, len(ranked) // 10)]
    calibration = []
    for bucket in range(CALIBRATION_BUCKETS):
        low, high = bucket / CALIBRATION_BUCKETS, (bucket + 1) / CALIBRATION_BUCKETS
        inside = [
            (p, y) for p, y in zip(predicted, labels, strict=True)
            if low <= p < high or (bucket == CALIBRATION_BUCKETS - 1 and p == 1.0)
        ]  # fmt: skip
        calibration.append(
            {
                "from": round(low, 2),
                "to": round(high, 2),
                "count": len(inside),
                "predicted": round(sum(p for p, _ in inside) / len(inside), 4) if inside else None,
                "observed": round(sum(y for _, y in inside) / len(inside), 4) if inside else None,
            }
        )
    recency = [r.feature("recency_days") for r in rows]
    return {
        "auc": round(float(roc_auc_score(labels, predicted)), 4),
        "baseline_auc": 0.5,
        "recency_auc": round(float(roc_auc_score(labels, recency)), 4),
        "precision_top_decile": round(sum(y for _, y in top) / len(top), 4),
        "base_rate": round(base_rate, 4),
        "evaluated_on": len(rows),
        "calibration": calibration,
    }


def _shortfall(rows: list[Observation]) -> str:
    churned = sum(r.churned for r in rows)
    if len(rows) < MIN_GUESTS:
        return f"{len(rows)} guests with stays (at least {MIN_GUESTS} are needed)"
    if churned < MIN_CLASS or len(rows) - churned < MIN_CLASS:
        return (
            f"{churned} guests churned and {len(rows) - churned} returned "
            f"(at least {MIN_CLASS} of each are needed)"
        )
    return ""


@transaction.atomic
def churn_model_train(*, actor: Principal, today: date | None = None) -> ChurnModel:
    """Train, evaluate and store a new version (or a ``not_enough_data`` version)."""
    actor.require_admin("train the churn model")
    today = today or timezone.localdate()
    horizon = settings_current().churn_horizon_months
    recent = months_before(today, horizon)
    earlier = months_before(today, 2 * horizon)
    train_rows = observations(cutoff=earlier, until=recent)
    test_rows = observations(cutoff=recent, until=today)
    version = (ChurnModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    common = {
        "version": version,
        "trained_at": timezone.now(),
        "cutoff": recent,
        "horizon_months": horizon,
    }
    shortfall = _shortfall(train_rows) or _shortfall(test_rows)
    if shortfall:
        return ChurnModel.objects.create(
            status=ChurnModel.Status.NOT_ENOUGH_DATA,
            training_size=len(test_rows),
            positives=sum(r.churned for r in test_rows),
            report={"reason": shortfall},
            **common,
        )
    report = evaluate(fit(train_rows), test_rows)
    final = fit(test_rows)
    weights = [abs(c) for c in final.coef]
    total = sum(weights) or 1.0
    report["feature_importances"] = {
        name: round(w / total, 4) for name, w in zip(FEATURES, weights, strict=True)
    }
    report["coefficients"] = {
        name: round(c, 4) for name, c in zip(FEATURES, final.coef, strict=True)
    }
    report["evaluation_cutoff"] = earlier.isoformat()
    report["algorithm"] = "logistic regression on standardised features (scikit-learn)"
    return ChurnModel.objects.create(
        status=ChurnModel.Status.TRAINED,
        training_size=len(test_rows),
        positives=sum(r.churned for r in test_rows),
        report=report,
        parameters=final.as_json(),
        **common,
    )


def churn_model_latest() -> ChurnModel | None:
    """The latest version, trained or not (what admins are shown)."""
    return ChurnModel.objects.order_by("-version").first()


def churn_model_usable() -> tuple[ChurnModel, Fitted] | None:
    """The model scoring uses: the latest version, when it is a trained one. A newer
    ``not_enough_data`` version means the history no longer supports a model, so the
    rule takes over rather than an old model scoring today's guests."""
    latest = churn_model_latest()
    if latest is None or latest.status != ChurnModel.Status.TRAINED:
        return None
    return latest, Fitted.from_json(latest.parameters)
