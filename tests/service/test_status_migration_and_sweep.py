"""The status flow's migration goes back and forth on a tenant schema holding cases in
the new statuses (going back maps them onto statuses the older code knows), and the
beat sweep task leaves a case waiting on the guest alone, then breaches it once it runs
again and passes its moved due time."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import Case
from crm.service.models import CaseSla
from crm.services.cases import case_create, case_update
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db


def _migrate(target: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _case(hotel, status: str) -> Case:
    case = case_create(
        subject=status, category="room", priority="high", property=hotel, actor=SYSTEM
    )
    for step in {"reopened": ["resolved", "reopened"]}.get(status, [status]):
        case = case_update(case=case, status=step, actor=SYSTEM)
    return case


def test_back_before_the_flow_and_forward_again(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    cases = {s: _case(hotels["paris"], s) for s in ("waiting_on_guest", "reopened", "escalated")}
    cases["new"] = case_create(subject="new", status="new", property=hotels["paris"], actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    _migrate([("crm", "0009_task_reminder_sent")])

    kept = dict(Case.objects.values_list("subject", "status"))
    assert kept == {
        "waiting_on_guest": "in_progress",
        "reopened": "open",
        "escalated": "escalated",
        "new": "open",
    }

    _migrate([("crm", "0010_case_status_flow")])

    assert Case.objects.count() == 4


def test_the_sweep_task_leaves_a_waiting_case_and_breaches_it_after_it_resumes(hotels, clock, desk):
    from crm.service.tasks import sla_sweep

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))  # due 17:00
    case = _case(hotels["paris"], "waiting_on_guest")
    clock.set(datetime(2026, 3, 12, 12, 0, tzinfo=PARIS))  # two days later
    assert sla_sweep.run(desk.schema_name) == {"started": 0, "breached": 0}
    connection.set_tenant(desk)
    # Back to work on Thursday 12:00; all 8 hours are left: due Friday 11:00.
    case_update(case=case, status="in_progress", actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.resolution_due == datetime(2026, 3, 13, 11, 0, tzinfo=PARIS)
    clock.set(datetime(2026, 3, 13, 10, 59, tzinfo=PARIS))
    assert sla_sweep.run(desk.schema_name) == {"started": 0, "breached": 0}
    connection.set_tenant(desk)
    clock.set(datetime(2026, 3, 13, 11, 1, tzinfo=PARIS))
    assert sla_sweep.run(desk.schema_name) == {"started": 0, "breached": 1}
    connection.set_tenant(desk)
    assert CaseSla.objects.get(case=case).resolution_breached_at == datetime(
        2026, 3, 13, 11, 0, tzinfo=PARIS
    )
