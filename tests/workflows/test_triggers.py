"""Each trigger: created, updated (watched fields, old and new values), deleted,
date-relative (before/after, hours, yearly) in the tenant's time zone, cron, manual."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from crm.models import Guest, Reservation
from crm.services.cases import case_create
from crm.services.guests import guest_update
from crm.services.reservations import reservation_status_change
from metadata.models import WorkflowRun
from metadata.services.definitions import object_definition_create
from metadata.services.records import record_create, record_delete
from metadata.workflows.engine import workflow_run_manual
from metadata.workflows.scheduler import workflows_schedule
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow, runs_of

pytestmark = pytest.mark.django_db

SET_VIP = [{"type": "update_field", "field": "vip_level", "value": 3}]


def test_record_created_runs_the_actions(alpha, commit):
    workflow = make_workflow(actions=SET_VIP)
    with commit():
        guest = make_guest()
    guest.refresh_from_db()
    assert guest.vip_level == 3
    [run] = runs_of(workflow)
    assert (run.status, run.trigger_type, run.record_id) == (
        "succeeded",
        "record_created",
        str(guest.pk),
    )
    assert [(s.index, s.action, s.status) for s in run.steps.order_by("pk")] == [
        (-1, "conditions", "succeeded"),
        (0, "update_field", "succeeded"),
    ]
    assert run.steps.get(index=0).detail == {"field": "vip_level", "from": 0, "to": 3}


def test_nothing_runs_before_commit_or_when_disabled(alpha, commit):
    workflow = make_workflow(actions=SET_VIP)
    guest = make_guest()  # no commit: the run is recorded but not executed
    assert runs_of(workflow)[0].status == "queued"
    guest.refresh_from_db()
    assert guest.vip_level == 0
    off = make_workflow("off", actions=SET_VIP, enabled=False)
    with commit():
        make_guest()
    assert runs_of(off) == []


def test_record_updated_watches_fields_and_old_and_new_values(alpha, commit):
    prop = make_property()
    workflow = make_workflow(
        "checked_out",
        object_api_name="reservation",
        trigger={
            "type": "record_updated",
            "fields": ["status"],
            "changes": [
                {
                    "field": "status",
                    "from": {"op": "eq", "value": "in_house"},
                    "to": {"op": "eq", "value": "checked_out"},
                }
            ],
        },
        actions=[{"type": "add_tag", "tag": "stayed"}],
    )
    guest = make_guest()
    reservation = make_reservation(property=prop, guest=guest)
    with commit():
        reservation_status_change(reservation=reservation, status="in_house", actor=SYSTEM)
    assert runs_of(workflow) == []  # changed, but not to checked_out
    with commit():
        from crm.services.reservations import reservation_update

        reservation_update(reservation=reservation, channel="web", actor=SYSTEM)
    assert runs_of(workflow) == []  # a field that is not watched
    with commit():
        reservation_status_change(reservation=reservation, status="checked_out", actor=SYSTEM)
    [run] = runs_of(workflow)
    assert run.status == "succeeded"
    assert run.event["old"]["status"] == "in_house" and run.event["new"]["status"] == "checked_out"
    guest.refresh_from_db()
    assert guest.tags == ["stayed"]


def test_record_updated_on_a_custom_field_change(alpha, commit):
    from metadata.services.definitions import custom_field_create

    custom_field_create(
        object_api_name="guest",
        api_name="tier",
        label="Tier",
        type="choice",
        choices=["gold", "silver"],
        actor=SYSTEM,
    )
    workflow = make_workflow(
        "gold",
        trigger={
            "type": "record_updated",
            "changes": [{"field": "custom.tier", "to": {"op": "eq", "value": "gold"}}],
        },
        actions=[{"type": "add_tag", "tag": "gold"}],
    )
    guest = make_guest(custom={"tier": "silver"})
    with commit():
        guest_update(guest=guest, custom={"tier": "gold"}, actor=SYSTEM)
    assert [r.status for r in runs_of(workflow)] == ["succeeded"]
    assert Guest.objects.get(pk=guest.pk).tags == ["gold"]


def test_record_deleted_with_conditions_on_its_last_values(alpha, commit):
    object_definition_create(
        api_name="supplier",
        label="Supplier",
        label_plural="Suppliers",
        module="guests",
        actor=SYSTEM,
    )
    workflow = make_workflow(
        "supplier_gone",
        object_api_name="supplier",
        trigger={"type": "record_deleted"},
        conditions={"all": [{"field": "name", "op": "contains", "value": "acme"}]},
        actions=[{"type": "webhook", "event_type": "workflow.supplier_gone"}],
    )
    keep = record_create(object_api_name="supplier", data={}, name="Other Ltd", actor=SYSTEM)
    gone = record_create(object_api_name="supplier", data={}, name="ACME Foods", actor=SYSTEM)
    gone_id = gone.pk
    record_delete(record=keep, actor=SYSTEM)
    record_delete(record=gone, actor=SYSTEM)
    [run] = runs_of(workflow)
    assert run.record_id == str(gone_id) and run.trigger_type == "record_deleted"
    assert run.event["old"]["name"] == "ACME Foods"


def _at(tz: str, *args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(tz))


def test_date_relative_days_before_arrival_in_the_tenants_time_zone(alpha, commit):
    # alpha is in Europe/Paris; 3 days before arrival at 10:00 Paris time.
    prop = make_property()
    workflow = make_workflow(
        "pre",
        object_api_name="reservation",
        trigger={
            "type": "date_relative",
            "field": "arrival",
            "offset": -3,
            "unit": "days",
            "at": "10:00",
        },
        actions=[{"type": "add_tag", "tag": "pre"}],
    )
    due = make_reservation(property=prop, guest=make_guest(), arrival=date(2026, 6, 13))
    make_reservation(property=prop, guest=make_guest(), arrival=date(2026, 6, 14))
    with commit():
        assert workflows_schedule(now=_at("Europe/Paris", 2026, 6, 10, 9, 59))["runs"] == 0
    with commit():
        assert workflows_schedule(now=_at("Europe/Paris", 2026, 6, 10, 10, 0))["runs"] == 1
    [run] = runs_of(workflow)
    assert (run.record_id, run.occurrence_key, run.status) == (
        str(due.pk),
        "date:2026-06-13",
        "succeeded",
    )
    assert due.guest.__class__.objects.get(pk=due.guest_id).tags == ["pre"]
    # Later checks overlap the window: the occurrence does not run again.
    with commit():
        assert workflows_schedule(now=_at("Europe/Paris", 2026, 6, 10, 10, 5))["runs"] == 0
    assert len(runs_of(workflow)) == 1


def test_date_relative_hours_after_a_datetime(alpha, commit):
    workflow = make_workflow(
        "late",
        object_api_name="case",
        trigger={"type": "date_relative", "field": "deadline", "offset": 2, "unit": "hours"},
        actions=[{"type": "update_field", "field": "priority", "value": "high"}],
    )
    deadline = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    case = case_create(subject="Noisy room", kind="complaint", deadline=deadline, actor=SYSTEM)
    with commit():
        assert workflows_schedule(now=deadline + timedelta(hours=1, minutes=59))["runs"] == 0
        assert workflows_schedule(now=deadline + timedelta(hours=2))["runs"] == 1
    case.refresh_from_db()
    assert case.priority == "high"
    assert runs_of(workflow)[0].occurrence_key == f"at:{deadline.isoformat()}"


def test_yearly_birthday_including_29_february(alpha, commit):
    workflow = make_workflow(
        "birthday",
        trigger={
            "type": "date_relative",
            "field": "birth_date",
            "offset": 0,
            "unit": "days",
            "at": "09:00",
            "yearly": True,
        },
        actions=[{"type": "add_tag", "tag": "birthday"}],
    )
    born = make_guest(birth_date=date(1980, 3, 5))
    leap = make_guest(birth_date=date(1992, 2, 29))
    make_guest(birth_date=date(1980, 3, 6))
    with commit():
        workflows_schedule(now=_at("Europe/Paris", 2026, 3, 5, 9, 30))
        workflows_schedule(now=_at("Europe/Paris", 2027, 2, 28, 9, 30))  # not a leap year
    assert sorted((r.record_id, r.occurrence_key) for r in runs_of(workflow)) == sorted(
        [(str(born.pk), "yearly:2026"), (str(leap.pk), "yearly:2027")]
    )


def test_cron_schedule_runs_each_matching_record_once_per_fire_time(alpha, commit):
    workflow = make_workflow(
        "weekly",
        trigger={"type": "schedule", "cron": "0 9 * * 1"},
        conditions={"all": [{"field": "vip_level", "op": "gte", "value": 2}]},
        actions=[{"type": "add_tag", "tag": "weekly"}],
    )
    vip = make_guest(vip_level=2)
    make_guest(vip_level=1)
    monday = _at("Europe/Paris", 2026, 6, 8, 9, 3)
    with commit():
        assert workflows_schedule(now=monday)["runs"] == 1
        assert workflows_schedule(now=monday + timedelta(minutes=5))["runs"] == 0
        assert workflows_schedule(now=monday + timedelta(days=1))["runs"] == 0  # Tuesday
    [run] = runs_of(workflow)
    assert run.record_id == str(vip.pk)
    assert run.occurrence_key == "cron:2026-06-08T09:00:00+02:00"


def test_schedules_are_checked_only_for_working_tenants(tenant_a, tenant_b, monkeypatch):
    from django.db import connection

    from metadata import tasks

    seen = []
    monkeypatch.setattr(
        tasks.workflows_schedule,
        "apply_async",
        lambda countdown: seen.append((connection.schema_name, countdown)),
    )
    tenant_b.status = "suspended"
    tenant_b.save(update_fields=["status"])
    assert tasks.workflows_schedule_everywhere() == 1
    [(schema, countdown)] = seen
    assert schema == "alpha" and 0 <= countdown < 60
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["workflows-schedule"]["task"] == (
        "metadata.tasks.workflows_schedule_everywhere"
    )


def test_manual_run_on_records_and_on_a_filtered_list(alpha, commit):
    workflow = make_workflow(
        "by_hand", trigger={"type": "manual"}, actions=[{"type": "add_tag", "tag": "picked"}]
    )
    a, b = make_guest(surname="Manual"), make_guest(surname="Manual")
    c = make_guest(surname="Other")
    with commit():
        runs = workflow_run_manual(workflow=workflow, record_ids=[a.pk], actor=SYSTEM)
    assert [r.record_id for r in runs] == [str(a.pk)]
    with commit():
        runs = workflow_run_manual(
            workflow=workflow, filters=[["surname", "eq", "Manual"]], actor=SYSTEM
        )
    assert sorted(r.record_id for r in runs) == sorted([str(a.pk), str(b.pk)])
    assert Guest.objects.get(pk=b.pk).tags == ["picked"]
    assert Guest.objects.get(pk=c.pk).tags == []
    # A manual run of the same record again is a new occurrence.
    assert WorkflowRun.objects.filter(workflow=workflow, record_id=str(a.pk)).count() == 2
    assert Reservation.objects.count() >= 0
    assert timezone.now()
