"""The nightly task: trains and scores a tenant with the module on, skips one with it off,
and gives the same scores when delivered twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django_tenants.utils import tenant_context

from crm.analytics.models import ChurnModel, GuestScore
from crm.analytics.tasks import analytics_nightly_everywhere, analytics_refresh
from metadata.services.modules import module_set_enabled
from tests.analytics.conftest import guests_bulk, stays_bulk
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_the_task_trains_and_scores_and_is_safe_to_run_twice(hotel, tenant_a):
    [guest] = guests_bulk(1)
    stays_bulk([{"property": hotel, "guest": guest, "arrival": date.today() - timedelta(days=9)}])

    first = analytics_refresh(tenant_a.schema_name)
    rows = list(GuestScore.objects.values_list("guest_id", "segment", "churn_risk"))
    second = analytics_refresh(tenant_a.schema_name)

    assert first["churn_model"]["status"] == "not_enough_data"
    assert second["churn_model"]["version"] == first["churn_model"]["version"] + 1
    assert first["with_stays"] == second["with_stays"] == 1
    assert list(GuestScore.objects.values_list("guest_id", "segment", "churn_risk")) == rows
    assert ChurnModel.objects.count() == 2


def test_a_tenant_with_the_module_off_is_skipped(tenant_a):
    with tenant_context(tenant_a):
        module_set_enabled(key="analytics", enabled=False, actor=SYSTEM)

    assert analytics_refresh(tenant_a.schema_name) == {"skipped": "module off"}
    assert analytics_refresh("no_such_schema") == {"skipped": "no such tenant"}
    with tenant_context(tenant_a):
        assert not ChurnModel.objects.exists()


def test_beat_sends_one_message_per_tenant_with_the_module_on(analytics_on, tenant_b, monkeypatch):
    with tenant_context(tenant_b):
        module_set_enabled(key="analytics", enabled=False, actor=SYSTEM)
    sent = []
    monkeypatch.setattr(analytics_refresh, "delay", lambda schema: sent.append(schema))

    assert analytics_nightly_everywhere() == 1
    assert sent == [analytics_on.schema_name]
