"""A workflow run that says "running" has an owner and a deadline: the worker that
claimed it and a lease renewed with each committed step. A run whose worker died resumes
at its step once the lease runs out, through the message delivered again or the sweeper,
and finishes once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Activity, Guest
from metadata.models import WorkflowRun, WorkflowRunStep
from metadata.workflows import engine, registry
from metadata.workflows.engine import runs_sweep, workflow_run_execute, workflow_run_manual
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow

pytestmark = pytest.mark.django_db

THREE_STEPS = [
    {"type": "create_task", "subject": "One"},
    {"type": "add_tag", "tag": "two"},
    {"type": "create_task", "subject": "Three"},
]


def _queued_run(steps=THREE_STEPS):
    workflow = make_workflow("leased", trigger={"type": "manual"}, actions=steps)
    guest = make_guest()
    [run] = workflow_run_manual(workflow=workflow, record_ids=[guest.pk], actor=SYSTEM)
    return run, guest


def _killed_after_first_step(run) -> WorkflowRun:
    """What a worker killed during step 2 leaves: the conditions and step 1 committed
    with their log rows, step 2 rolled back, the run "running" under a dead owner."""
    config = dict(run.version.actions[0])
    registry.action_types()[config.pop("type")].run(
        registry.RunContext(
            workflow_id=run.workflow_id,
            version_id=run.version_id,
            run_id=run.pk,
            object_api_name=run.object_api_name,
            record_id=run.record_id,
            record=Guest.objects.get(pk=run.record_id),
        ),
        config,
    )
    WorkflowRunStep.objects.create(run=run, index=-1, action="conditions", status="succeeded")
    WorkflowRunStep.objects.create(run=run, index=0, action="create_task", status="succeeded")
    WorkflowRun.objects.filter(pk=run.pk).update(
        status="running",
        attempts=1,
        next_step=1,
        started=timezone.now() - timedelta(minutes=10),
        locked_by="dead-host:1:cafecafe",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    return WorkflowRun.objects.get(pk=run.pk)


def _finished_once(run, guest) -> None:
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert (run.attempts, run.locked_by, run.lease_until) == (2, "", None)
    assert list(run.steps.order_by("index").values_list("index", "action")) == [
        (-1, "conditions"),
        (0, "create_task"),
        (1, "add_tag"),
        (2, "create_task"),
    ]
    tasks = Activity.objects.filter(record_id=str(guest.pk), kind="task")
    assert sorted(tasks.values_list("subject", flat=True)) == ["One", "Three"]
    assert Guest.objects.get(pk=guest.pk).tags == ["two"]


def test_a_claim_holds_a_lease_renewed_by_every_step(alpha, monkeypatch):
    run, guest = _queued_run()
    leases = []
    advance = engine._advance

    def watched(r):
        advance(r)
        leases.append(WorkflowRun.objects.get(pk=r.pk).lease_until)

    monkeypatch.setattr(engine, "_advance", watched)
    workflow_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.lease_until is None and run.locked_by == ""
    assert len(leases) == 3 and leases == sorted(leases)
    assert leases[0] > timezone.now() + timedelta(seconds=250)  # 300 s from each step


def test_a_live_run_is_left_alone_by_a_second_message(alpha):
    run, guest = _queued_run()
    WorkflowRun.objects.filter(pk=run.pk).update(
        status="running",
        locked_by="busy-host:1:beefbeef",
        lease_until=timezone.now() + timedelta(minutes=1),
    )
    assert workflow_run_execute(run_id=run.pk) is None
    assert not engine.run_due(run.pk)
    run.refresh_from_db()
    assert (run.status, run.locked_by, run.attempts) == ("running", "busy-host:1:beefbeef", 0)
    assert not Activity.objects.filter(record_id=str(guest.pk)).exists()


def test_a_run_whose_worker_died_resumes_at_its_step_when_the_message_comes_again(alpha):
    run, guest = _queued_run()
    _killed_after_first_step(run)
    assert engine.run_due(run.pk)
    workflow_run_execute(run_id=run.pk)
    _finished_once(run, guest)
    assert workflow_run_execute(run_id=run.pk) is None  # and again: nothing


def test_the_sweeper_requeues_a_dead_run_which_then_finishes_once(alpha, commit):
    run, guest = _queued_run()
    _killed_after_first_step(run)
    with commit():  # inline: the resent message runs right after the sweep commits
        counts = runs_sweep()
    assert counts == {"requeued": 1, "failed": 0, "resent": 0}
    _finished_once(run, guest)


def test_a_run_whose_workers_kept_dying_is_failed_at_its_step(alpha, commit):
    run, guest = _queued_run()
    _killed_after_first_step(run)
    WorkflowRun.objects.filter(pk=run.pk).update(attempts=engine.MAX_ATTEMPTS)
    with commit():
        assert runs_sweep() == {"requeued": 0, "failed": 1, "resent": 0}
    run.refresh_from_db()
    assert run.status == "failed" and run.finished is not None
    assert run.error == "The worker running it stopped 5 times; given up at step 2."
    failed = run.steps.get(index=1)
    assert (failed.action, failed.status, failed.error) == ("add_tag", "failed", run.error)
    assert Guest.objects.get(pk=guest.pk).tags == []


def test_a_run_killed_after_its_last_step_is_finished_by_the_sweeper(alpha, commit):
    run, guest = _queued_run(steps=[{"type": "create_task", "subject": "One"}])
    _killed_after_first_step(run)
    WorkflowRun.objects.filter(pk=run.pk).update(attempts=engine.MAX_ATTEMPTS)
    with commit():
        runs_sweep()
    run.refresh_from_db()
    assert (run.status, run.error) == ("succeeded", "")
    assert Activity.objects.filter(record_id=str(guest.pk), kind="task").count() == 1


def test_the_sweeper_resends_lost_messages_and_leaves_the_rest(alpha, commit, monkeypatch):
    now = timezone.now()
    sent = []
    monkeypatch.setattr(engine, "task_send", lambda name, *args, **kw: sent.append(args[0]))
    workflow = make_workflow("many", trigger={"type": "manual"}, actions=THREE_STEPS)
    guests = [make_guest() for _ in range(5)]
    runs = workflow_run_manual(workflow=workflow, record_ids=[g.pk for g in guests], actor=SYSTEM)
    lost, fresh, alive, legacy, legacy_running = runs
    WorkflowRun.objects.filter(pk=lost.pk).update(lease_until=now - timedelta(seconds=1))
    WorkflowRun.objects.filter(pk=alive.pk).update(
        status="running", locked_by="h:1:a", lease_until=now + timedelta(minutes=1)
    )
    # Rows from before leases: judged by when they were created or started.
    WorkflowRun.objects.filter(pk=legacy.pk).update(
        lease_until=None, created=now - timedelta(hours=1)
    )
    WorkflowRun.objects.filter(pk=legacy_running.pk).update(
        status="running", lease_until=None, started=now - timedelta(hours=1)
    )
    with commit():
        counts = runs_sweep(now=now)
    assert counts == {"requeued": 1, "failed": 0, "resent": 2}
    assert sorted(sent) == sorted([legacy_running.pk, lost.pk, legacy.pk])
    state = {r.pk: r for r in WorkflowRun.objects.filter(workflow=workflow)}
    deadline = now + timedelta(seconds=900)
    assert state[lost.pk].lease_until == deadline and state[legacy.pk].lease_until == deadline
    assert state[legacy_running.pk].status == "queued"
    assert state[fresh.pk].lease_until > now and state[fresh.pk].lease_until != deadline
    assert (state[alive.pk].status, state[alive.pk].locked_by) == ("running", "h:1:a")


def test_a_step_committed_by_a_worker_that_lost_the_run_rolls_back(alpha):
    """If the sweeper gave the run to another worker while this one was presumed dead,
    this one's step must not commit: the other one runs it."""

    def slow(ctx, config):
        Guest.objects.filter(pk=ctx.record_id).update(vip_level=9)
        WorkflowRun.objects.filter(pk=ctx.run_id).update(locked_by="other-host:2:beefbeef")
        return registry.Outcome(detail={})

    registry.action_register(registry.ActionType("slow", "Slow", lambda c, o: c, slow))
    try:
        run, guest = _queued_run(steps=[{"type": "slow"}])
        assert workflow_run_execute(run_id=run.pk) is None  # no outcome of its own
        run.refresh_from_db()
        # (One connection here: the simulated takeover rolled back with the step.)
        assert (run.status, run.next_step, run.finished) == ("running", 0, None)
        assert Guest.objects.get(pk=guest.pk).vip_level == 0
        assert not run.steps.filter(index=0).exists()
    finally:
        registry._actions.pop("slow", None)


@pytest.mark.parametrize(("minutes", "by_message"), [(30, True), (2 * 24 * 60, False)])
def test_long_waits_are_resumed_by_the_scheduler_not_a_delayed_message(
    alpha, commit, monkeypatch, minutes, by_message
):
    sent = []
    monkeypatch.setattr(
        engine, "task_send", lambda name, *args, countdown=None: sent.append(countdown)
    )
    run, guest = _queued_run(
        steps=[{"type": "wait", "minutes": minutes}, {"type": "add_tag", "tag": "later"}]
    )
    with commit():
        workflow_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "waiting"
    assert sent == ([minutes * 60] if by_message else [])
