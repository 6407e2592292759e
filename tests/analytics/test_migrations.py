"""The module's migrations go back and forth on a tenant schema that holds data: forward
adds the module's tables, its settings row and the seeded roles' rights; backward removes
exactly that and leaves crm's rows alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.analytics.services.scores import scores_refresh
from crm.models import Guest
from tenants.access.models import ObjectPermission
from tests.analytics.conftest import TODAY, guests_bulk, stays_bulk
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
TARGETS = ("guest_score", "churn_model", "analytics_report")


def _migrate(target: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name LIKE 'analytics_%%'"
        )
        return {row[0] for row in cursor.fetchall()}


def _rights() -> set[tuple[str, str]]:
    return set(
        ObjectPermission.objects.filter(target__in=TARGETS).values_list("role__key", "target")
    )


def test_back_to_zero_and_forward_again(hotel):
    [guest] = guests_bulk(1)
    stays_bulk([{"property": hotel, "guest": guest, "arrival": TODAY - timedelta(days=5)}])
    scores_refresh(actor=SYSTEM, today=TODAY)
    seeded = _rights()
    assert ("front_office", "guest_score") in seeded
    with connection.cursor() as cursor:
        # Checks deferred to the commit run now, or no table of them could be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    _migrate([("analytics", None)])

    assert _tables() == set()
    assert _rights() == set()
    assert Guest.objects.filter(pk=guest.pk).exists()

    _migrate([("analytics", "0005_segment_snapshots")])

    assert {"analytics_guestscore", "analytics_rollup", "analytics_settings"} <= _tables()
    assert _rights() == seeded
    with connection.cursor() as cursor:
        cursor.execute("SELECT churn_horizon_months FROM analytics_settings WHERE id = 1")
        assert cursor.fetchone() == (12,)
