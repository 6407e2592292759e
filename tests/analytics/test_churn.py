"""The churn model: on a generated tenant whose churn depends on each guest's return rate,
the model trained on an earlier period ranks a later, unseen period far better than the
naive baseline; a 20-guest tenant gets "not enough data" and the labelled rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.analytics.models import ChurnModel, GuestScore
from crm.analytics.services.churn import churn_model_train, months_before, settings_update
from crm.analytics.services.scores import scores_refresh
from tests.analytics.conftest import TODAY, churn_history
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_the_model_beats_the_naive_baseline_on_a_later_period(hotel):
    rates = churn_history(hotel=hotel, guests=600)

    model = churn_model_train(actor=SYSTEM, today=TODAY)

    assert model.status == "trained" and model.version == 1
    report = model.report
    assert report["auc"] > report["baseline_auc"] + 0.15, report
    # Ranking beats picking at random: the top decile churns more than the base rate.
    assert report["precision_top_decile"] > report["base_rate"] + 0.15, report
    assert model.cutoff == months_before(TODAY, 12)
    assert report["evaluation_cutoff"] == months_before(TODAY, 24).isoformat()
    assert model.training_size >= 200 and 20 <= model.positives <= model.training_size - 20
    assert sum(b["count"] for b in report["calibration"]) == report["evaluated_on"]
    assert set(report["feature_importances"]) == set(model.parameters["features"])
    assert abs(sum(report["feature_importances"].values()) - 1) < 0.01

    scores_refresh(actor=SYSTEM, today=TODAY)

    scored = list(GuestScore.objects.filter(churn_source="model"))
    assert scored and all(s.churn_model_version == 1 for s in scored)
    assert all(Decimal(0) <= s.churn_risk <= Decimal(1) for s in scored)
    # Guests returning three times a year are scored far safer than those at 0.3.
    by_rate: dict[float, list[float]] = {}
    for s in scored:
        by_rate.setdefault(rates[s.guest_id], []).append(float(s.churn_risk))
    mean = {rate: sum(v) / len(v) for rate, v in by_rate.items()}
    assert mean[3.0] + 0.2 < mean[0.3], mean
    risky = max(scored, key=lambda s: s.churn_risk)
    assert risky.churn_reasons and risky.churn_reasons[0]["weight"] > 0


def test_a_twenty_guest_tenant_has_not_enough_data(hotel):
    churn_history(hotel=hotel, guests=20)

    model = churn_model_train(actor=SYSTEM, today=TODAY)
    scores_refresh(actor=SYSTEM, today=TODAY)

    assert model.status == "not_enough_data"
    assert model.parameters == {}
    assert "at least 200 are needed" in model.report["reason"]
    scored = GuestScore.objects.exclude(churn_risk=None)
    assert set(scored.values_list("churn_source", flat=True)) == {"rules"}


def test_the_horizon_is_a_tenant_setting_and_versions_count_up(hotel):
    churn_history(hotel=hotel, guests=20)
    settings_update(actor=SYSTEM, churn_horizon_months=6)

    churn_model_train(actor=SYSTEM, today=TODAY)
    second = churn_model_train(actor=SYSTEM, today=TODAY)

    assert (second.version, second.horizon_months) == (2, 6)
    assert second.cutoff == months_before(TODAY, 6)
    assert ChurnModel.objects.count() == 2
