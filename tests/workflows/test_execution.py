"""Execution guarantees: at most once per occurrence, loop protection and the depth cap,
retries after transient failures, the per-tenant throughput cap, versions kept by runs in
flight, and dry runs that change nothing."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.utils import timezone

from crm.models import Activity, Case, Guest, RecordChange
from crm.services.guests import guest_update
from metadata import events
from metadata.models import OutboxMessage, WorkflowRun, WorkflowRunStep
from metadata.services.workflows import workflow_update
from metadata.workflows import engine, registry, throttle
from metadata.workflows.engine import workflow_dry_run, workflow_run_execute, workflow_run_manual
from metadata.workflows.scheduler import workflows_schedule
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow, outbox, runs_of

pytestmark = pytest.mark.django_db


def test_a_duplicated_event_runs_once(alpha, commit):
    workflow = make_workflow(
        "vip",
        trigger={"type": "record_updated", "fields": ["vip_level"]},
        actions=[{"type": "create_task", "subject": "Welcome VIP {{ guest.full_name }}"}],
    )
    guest = make_guest()
    with commit():
        for _ in range(2):  # the same change announced twice (a retried PMS message)
            events.record_event_emit(
                object_api_name="guest",
                action="updated",
                record_id=guest.pk,
                old={"vip_level": 0},
                new={"vip_level": 2},
            )
    [run] = runs_of(workflow)
    assert run.status == "succeeded"
    assert Activity.objects.filter(kind="task", record_id=str(guest.pk)).count() == 1


def test_a_redelivered_task_does_not_repeat_the_actions(alpha, commit):
    workflow = make_workflow("tag", actions=[{"type": "create_task", "subject": "New guest"}])
    with commit():
        guest = make_guest()
    [run] = runs_of(workflow)
    assert workflow_run_execute(run_id=run.pk) is None  # finished: left alone
    assert Activity.objects.filter(record_id=str(guest.pk)).count() == 1


def test_a_repeated_schedule_check_runs_each_occurrence_once(alpha, commit):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    workflow = make_workflow(
        "day_before",
        object_api_name="reservation",
        trigger={
            "type": "date_relative",
            "field": "arrival",
            "offset": -1,
            "unit": "days",
            "at": "08:00",
        },
        actions=[{"type": "create_task", "subject": "Prepare {{ record.confirmation_number }}"}],
    )
    make_reservation(property=make_property(), guest=make_guest(), arrival=date(2026, 6, 2))
    now = datetime(2026, 6, 1, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with commit():
        workflows_schedule(now=now)
        workflows_schedule(now=now)
    assert len(runs_of(workflow)) == 1
    assert Activity.objects.filter(kind="task").count() == 1


def test_a_workflow_does_not_retrigger_itself(alpha, commit):
    # Any update of a guest sets the given name: without loop protection its own update
    # would trigger it again and again.
    loop = make_workflow(
        "loop",
        trigger={"type": "record_updated"},
        actions=[{"type": "update_field", "field": "vip_level", "value": 5}],
    )
    guest = make_guest()
    with commit():
        guest_update(guest=guest, surname="Changed", actor=SYSTEM)
    [run] = runs_of(loop)
    assert run.status == "succeeded"
    assert Guest.objects.get(pk=guest.pk).vip_level == 5
    change = RecordChange.objects.filter(record_id=str(guest.pk), field="vip_level").get()
    assert change.new == 5


def test_two_workflows_cannot_ping_pong(alpha, commit):
    ping = make_workflow(
        "ping",
        trigger={"type": "record_updated", "fields": ["vip_level"]},
        actions=[{"type": "update_field", "field": "customer_type", "value": "corporate"}],
    )
    pong = make_workflow(
        "pong",
        trigger={"type": "record_updated", "fields": ["customer_type"]},
        actions=[{"type": "update_field", "field": "vip_level", "value": 9}],
    )
    guest = make_guest()
    with commit():
        guest_update(guest=guest, vip_level=1, actor=SYSTEM)
    # ping (by the user) -> pong (by ping) -> ping again? No: ping is in the chain.
    assert [r.status for r in runs_of(ping)] == ["succeeded"]
    [pong_run] = runs_of(pong)
    assert pong_run.depth == 2 and pong_run.event["origin"]["workflows"] == [ping.pk]
    guest.refresh_from_db()
    assert (guest.vip_level, guest.customer_type) == (9, "corporate")


def test_chains_stop_at_the_depth_cap(alpha, commit, settings):
    settings.ATRIUM_WORKFLOW_MAX_DEPTH = 2
    fields = ["vip_level", "customer_type", "language", "nationality"]
    values = [None, "corporate", "fr", "FR"]
    chain = [
        make_workflow(
            f"step{i}",
            trigger={"type": "record_updated", "fields": [fields[i]]},
            actions=[{"type": "update_field", "field": fields[i + 1], "value": values[i + 1]}],
        )
        for i in range(3)
    ]
    guest = make_guest()
    with commit():
        guest_update(guest=guest, vip_level=1, actor=SYSTEM)
    assert [len(runs_of(w)) for w in chain] == [1, 1, 0]
    guest.refresh_from_db()
    assert (guest.customer_type, guest.language, guest.nationality) == ("corporate", "fr", "")


def test_transient_failures_are_retried_from_the_failed_step(alpha, commit, monkeypatch):
    calls = []

    def flaky(ctx, config):
        calls.append(ctx.run_id)
        if len(calls) == 1:
            raise OperationalError("could not obtain lock on row")
        return registry.Outcome(detail={"ok": True})

    registry.action_register(registry.ActionType("flaky", "Flaky", lambda c, o: c, flaky))
    try:
        workflow = make_workflow(
            "retry",
            trigger={"type": "manual"},
            actions=[{"type": "add_tag", "tag": "once"}, {"type": "flaky"}],
        )
        guest = make_guest()
        [run] = workflow_run_manual(workflow=workflow, record_ids=[guest.pk], actor=SYSTEM)
        with pytest.raises(engine.RetryLater) as info:  # the task turns it into a retry
            workflow_run_execute(run_id=run.pk)
        assert info.value.countdown == 5
        run.refresh_from_db()
        assert (run.status, run.next_step, run.attempts) == ("queued", 1, 1)
        assert "could not obtain lock" in run.error
        run = workflow_run_execute(run_id=run.pk)
        assert (run.status, run.attempts) == ("succeeded", 2)
        assert [s.action for s in run.steps.order_by("pk")] == ["conditions", "add_tag", "flaky"]
        assert Guest.objects.get(pk=guest.pk).tags == ["once"]
    finally:
        registry._actions.pop("flaky", None)


def test_retries_stop_after_max_attempts(alpha, commit):
    def down(ctx, config):
        raise ConnectionError("provider unreachable")

    registry.action_register(registry.ActionType("down", "Down", lambda c, o: c, down))
    try:
        workflow = make_workflow("down", trigger={"type": "manual"}, actions=[{"type": "down"}])
        with commit():
            [run] = workflow_run_manual(
                workflow=workflow, record_ids=[make_guest().pk], actor=SYSTEM
            )
        for _ in range(engine.MAX_ATTEMPTS - 1):
            try:
                workflow_run_execute(run_id=run.pk)
            except engine.RetryLater as exc:
                assert exc.countdown > 0
        run.refresh_from_db()
        assert (run.status, run.attempts) == ("failed", engine.MAX_ATTEMPTS)
        assert run.steps.get(index=0).error == "ConnectionError: provider unreachable"
    finally:
        registry._actions.pop("down", None)


def test_the_throughput_cap_requeues_with_a_countdown(alpha, settings, monkeypatch):
    from metadata import tasks

    settings.ATRIUM_WORKFLOW_RATE_PER_SECOND = 2
    settings.ATRIUM_WORKFLOW_BURST = 3
    waits = [throttle.throttle_take() for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert 0.4 < waits[3] <= 0.5 and waits[4] > 0
    requeued = []
    monkeypatch.setattr(
        tasks.workflow_run_execute,
        "apply_async",
        lambda args, countdown: requeued.append((args, countdown)),
    )
    monkeypatch.setattr(
        engine, "workflow_run_execute", lambda run_id: pytest.fail("ran over the cap")
    )
    workflow = make_workflow(
        "capped", trigger={"type": "manual"}, actions=[{"type": "add_tag", "tag": "x"}]
    )
    [run] = workflow_run_manual(workflow=workflow, record_ids=[make_guest().pk], actor=SYSTEM)
    assert tasks.workflow_run_execute.run(run.pk) == "throttled"
    [(args, countdown)] = requeued
    assert args == [run.pk] and countdown > 0.4


def test_a_message_for_a_finished_run_spends_no_throughput(alpha, commit, settings):
    # Late acknowledgement and the sweeper send some messages twice; the second of a
    # finished run must not eat into the tenant's budget.
    from metadata import tasks

    workflow = make_workflow(
        "twice", trigger={"type": "manual"}, actions=[{"type": "add_tag", "tag": "x"}]
    )
    with commit():
        [run] = workflow_run_manual(workflow=workflow, record_ids=[make_guest().pk], actor=SYSTEM)
    run.refresh_from_db()
    assert run.status == "succeeded"
    settings.ATRIUM_WORKFLOW_RATE_PER_SECOND = 1
    settings.ATRIUM_WORKFLOW_BURST = 1
    assert tasks.workflow_run_execute.run(run.pk) == "not due"
    assert throttle.throttle_take() == 0  # the one token is still there
    assert throttle.throttle_take() > 0


def test_runs_in_flight_keep_their_version(alpha, commit):
    workflow = make_workflow(
        "versioned",
        trigger={"type": "manual"},
        actions=[
            {"type": "add_tag", "tag": "v1"},
            {"type": "wait", "minutes": 5},
            {"type": "add_tag", "tag": "v1-end"},
        ],
    )
    guest = make_guest()
    with commit():
        [run] = workflow_run_manual(workflow=workflow, record_ids=[guest.pk], actor=SYSTEM)
    run.refresh_from_db()
    assert run.status == "waiting"
    workflow = workflow_update(
        workflow=workflow, actions=[{"type": "add_tag", "tag": "v2"}], actor=SYSTEM
    )
    assert workflow.current_version.number == 2
    assert (
        workflow_update(workflow=workflow, name="Renamed", actor=SYSTEM).current_version.number == 2
    )
    WorkflowRun.objects.filter(pk=run.pk).update(resume_at=timezone.now())
    workflow_run_execute(run_id=run.pk)
    assert Guest.objects.get(pk=guest.pk).tags == ["v1", "v1-end"]
    with commit():
        [new] = workflow_run_manual(workflow=workflow, record_ids=[guest.pk], actor=SYSTEM)
    assert new.version.number == 2
    assert Guest.objects.get(pk=guest.pk).tags == ["v1", "v1-end", "v2"]


def test_dry_run_shows_every_step_and_changes_nothing(
    alpha, commit, django_capture_on_commit_callbacks
):
    from tests.workflows.conftest import staff

    staff("gm@alpha.test", "general_manager")
    workflow = make_workflow(
        "everything",
        object_api_name="reservation",
        trigger={"type": "manual"},
        conditions={"all": [{"field": "guest.vip_level", "op": "gte", "value": 1}]},
        actions=[
            {"type": "update_field", "field": "channel", "value": "direct"},
            {
                "type": "create_task",
                "subject": "Call {{ guest.first_name }}",
                "role": "general_manager",
            },
            {"type": "create_case", "subject": "Check {{ record.confirmation_number }}"},
            {"type": "add_tag", "tag": "dry"},
            {
                "type": "send_email",
                "subject": {"en": "Hi", "fr": "Bonjour {{ guest.first_name }}"},
                "body": {"en": "Hello", "fr": "Votre séjour du {{ record.arrival }}"},
            },
            {"type": "send_sms", "body": "See you {{ guest.first_name }}"},
            {"type": "wait", "days": 1},
            {"type": "webhook", "event_type": "workflow.guest_vip"},
        ],
    )
    guest = make_guest(
        given_name="Luc",
        vip_level=2,
        language="fr",
        emails=["luc@example.com"],
        phones=["+33612345678"],
    )
    reservation = make_reservation(property=make_property(), guest=guest)
    counts = lambda: (  # noqa: E731
        OutboxMessage.objects.count(),
        Activity.objects.count(),
        Case.objects.count(),
        WorkflowRun.objects.count(),
        WorkflowRunStep.objects.count(),
        RecordChange.objects.count(),
    )
    before = counts()
    with django_capture_on_commit_callbacks() as callbacks:
        report = workflow_dry_run(workflow=workflow, record_id=reservation.pk, actor=SYSTEM)
    assert callbacks == []  # nothing queued for after commit either
    assert counts() == before and outbox() == []
    reservation.refresh_from_db()
    guest.refresh_from_db()
    assert (reservation.channel, guest.tags) == ("", [])
    assert report["conditions_met"] is True
    steps = {s["action"]: s for s in report["steps"]}
    assert [s["status"] for s in report["steps"]] == ["succeeded"] * 7 + ["waiting", "succeeded"]
    assert steps["update_field"]["detail"] == {"field": "channel", "from": "", "to": "direct"}
    assert steps["create_task"]["detail"]["subject"] == "Call Luc"
    assert steps["create_task"]["detail"]["assignee"] == "gm@alpha.test"
    email = steps["send_email"]["detail"]
    assert (email["recipient"], email["language"], email["subject"]) == (
        "luc@example.com",
        "fr",
        "Bonjour Luc",
    )
    assert email["body"].startswith("Votre séjour du 1 mars 2026")
    assert steps["send_sms"]["detail"]["recipient"] == "+33612345678"
    assert steps["add_tag"]["detail"]["tags"] == ["dry"]
    quiet = make_reservation(property=make_property(), guest=make_guest())
    assert workflow_dry_run(workflow=workflow, record_id=quiet.pk, actor=SYSTEM)["steps"] == [
        {
            "index": -1,
            "action": "conditions",
            "status": "skipped",
            "detail": {"met": False},
            "error": "",
        }
    ]
