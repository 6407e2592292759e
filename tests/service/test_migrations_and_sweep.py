"""The module's migrations go back and forth on a tenant schema holding cases (crm's
rows survive, the module's rows go with its tables), and the beat sweep, run twice in a
tenant's schema, records a breach once."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import Case
from crm.service.models import CaseSla
from crm.services.cases import case_create
from tenants.access.models import ObjectPermission
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db
TARGETS = ("service_level", "survey", "survey_response")


def _migrate(target: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name LIKE 'service_%%'"
        )
        return {row[0] for row in cursor.fetchall()}


def _rights() -> set[tuple[str, str]]:
    return set(
        ObjectPermission.objects.filter(target__in=TARGETS).values_list("role__key", "target")
    )


def test_back_to_zero_and_forward_again(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = case_create(
        subject="Kept", category="room", priority="high", property=hotels["paris"], actor=SYSTEM
    )
    assert CaseSla.objects.filter(case=case).exists()
    seeded = _rights()
    assert ("service_agent", "survey_response") in seeded
    assert ("service_agent", "service_level") in seeded
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    _migrate([("service", None)])

    assert _tables() == set()
    assert _rights() == set()
    assert Case.objects.filter(pk=case.pk).exists()

    _migrate([("service", "0005_survey_reminders")])

    assert {
        "service_casesla",
        "service_survey",
        "service_response",
        "service_casemessage",
    } <= _tables()
    assert _rights() == seeded


def test_the_sweep_task_records_a_breach_once_in_the_tenants_schema(hotels, clock, desk):
    from crm.service.tasks import sla_sweep

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = case_create(
        subject="Late", category="room", priority="high", property=hotels["paris"], actor=SYSTEM
    )
    # A case whose timers were never started (from before the module) gets them.
    CaseSla.objects.filter(case=case).delete()
    Case.objects.filter(pk=case.pk).update(created=datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=PARIS))
    assert sla_sweep.run(desk.schema_name) == {"started": 1, "breached": 1}
    connection.set_tenant(desk)
    assert sla_sweep.run(desk.schema_name) == {"started": 0, "breached": 0}
    connection.set_tenant(desk)
    sla = CaseSla.objects.get(case=case)
    assert sla.first_response_breached_at == datetime(2026, 3, 10, 11, 0, tzinfo=PARIS)
    assert sla.resolution_breached_at is None
    assert sla_sweep.run("no_such_schema") == {"skipped": "no such tenant"}
    assert sla_sweep.acks_late is True and sla_sweep.reject_on_worker_lost is True
