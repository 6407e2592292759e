"""From a record event (or a schedule, or a person) to a finished run.

1. ``record_event_handle`` (subscribed to metadata.events) runs inside the writer's
   transaction: for each enabled workflow listening to that object and kind of change it
   creates a ``WorkflowRun`` row. The unique constraint on (version, object, record,
   occurrence) makes each trigger occurrence run at most once. The run is queued to
   Celery when the writer's transaction commits (with the tenant's schema).
2. ``workflow_run_execute`` claims the run (row lock, skip if taken or finished; its
   worker's name and a lease on the row), checks the conditions, then runs each action
   in its own transaction together with its log row, the run's position and a renewed
   lease, so a retry resumes after the last step that committed. A run whose worker died
   keeps its position: once its lease runs out, the message delivered again or the
   sweeper (``runs_sweep``, beat) lets another worker resume it at that step.
   Writes made by the actions carry ``event_origin(workflows=[...])``: events whose chain
   already holds a workflow never trigger it again, and chains stop at a depth cap.
3. ``workflow_dry_run`` runs the same path against a record with ``dry_run`` set, inside
   a transaction that is always rolled back: nothing is written or sent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from prometheus_client import Counter

from metadata import events
from metadata.models import Workflow, WorkflowRun, WorkflowRunStep, WorkflowVersion
from metadata.selectors.records import records_queryset
from metadata.workflows import registry
from metadata.workflows.conditions import (
    conditions_met,
    field_value,
    value_matches,
    values_meet,
)
from metadata.workflows.definition import EVENT_TRIGGERS
from metadata.workflows.dispatch import inline_register, task_send
from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import ApplicationError, NotFound

log = logging.getLogger(__name__)

# Runs that reached an outcome, counted once their outcome is committed.
RUNS_FINISHED = Counter(
    "atrium_workflow_runs_total",
    "Workflow runs that reached an outcome (succeeded, skipped, failed).",
    ["status"],
)
_OUTCOMES = frozenset({"succeeded", "skipped", "failed"})


def _count_outcome(status: str) -> None:
    if status in _OUTCOMES:
        transaction.on_commit(lambda: RUNS_FINISHED.labels(status=status).inc())


MAX_ATTEMPTS = 5
TRANSIENT = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    registry.TransientError,
)
Status = WorkflowRun.Status


class RetryLater(Exception):
    def __init__(self, countdown: float):
        super().__init__(f"retry in {countdown:.0f} s")
        self.countdown = countdown


class LeaseLost(Exception):
    """Another worker took the run over (this one was presumed dead): the step being
    committed must not be, and the outcome is the other worker's to write."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.ATRIUM_WORKFLOW_RUN_LEASE_SECONDS)


def _queued_deadline(now: datetime, countdown: float = 0) -> datetime:
    return now + timedelta(seconds=settings.ATRIUM_QUEUED_TIMEOUT_SECONDS + countdown)


# --- from events to runs ------------------------------------------------------------------


def _max_depth() -> int:
    return settings.ATRIUM_WORKFLOW_MAX_DEPTH


def _changed(event: events.RecordEvent, name: str) -> bool:
    return field_value(event.old, name) != field_value(event.new, name)


def _update_matches(trigger: dict, event: events.RecordEvent) -> bool:
    watched = trigger.get("fields") or []
    if watched and not any(_changed(event, name) for name in watched):
        return False
    for change in trigger.get("changes") or []:
        name = change["field"]
        if not _changed(event, name):
            return False
        for end, values in (("from", event.old), ("to", event.new)):
            test = change.get(end)
            if test and not value_matches(field_value(values, name), test["op"], test["value"]):
                return False
    return True


def _occurrence(trigger: dict, event: events.RecordEvent) -> str:
    if event.action != events.UPDATED:
        return event.action
    # One run per transition of the watched fields: the same change reported twice (a
    # PMS retry, a redelivered message) is the same occurrence.
    names = sorted(
        set(trigger.get("fields") or []) | {c["field"] for c in trigger.get("changes") or []}
        or event.changed
    )
    transition = {n: [field_value(event.old, n), field_value(event.new, n)] for n in names}
    digest = hashlib.sha256(json.dumps(transition, sort_keys=True, default=str).encode())
    return f"updated:{digest.hexdigest()[:40]}"


def run_create(
    *,
    workflow: Workflow,
    version: WorkflowVersion,
    object_api_name: str,
    record_id: str,
    occurrence_key: str,
    trigger_type: str,
    event: dict | None = None,
    depth: int = 1,
    enqueue: bool = True,
) -> WorkflowRun | None:
    """The run of this occurrence, queued on commit; None if it already exists."""
    try:
        with transaction.atomic():
            run = WorkflowRun.objects.create(
                workflow=workflow,
                version=version,
                object_api_name=object_api_name,
                record_id=str(record_id),
                occurrence_key=occurrence_key[:200],
                trigger_type=trigger_type,
                event=event or {},
                depth=depth,
                lease_until=_queued_deadline(timezone.now()),
            )
    except IntegrityError:
        return None
    if enqueue:
        transaction.on_commit(lambda: task_send("workflow_run_execute", run.pk))
    return run


# Enabled workflows by (object, trigger type), per tenant, keyed by the metadata version:
# every record write asks, and workflow services bump the version when they change one.
_index_cache: dict[tuple[str, int | None], tuple[int, dict[tuple[str, str], list[Workflow]]]] = {}


def _workflow_index() -> dict[tuple[str, str], list[Workflow]]:
    from metadata.definitions import version_current
    from tenants.context import current_tenant

    key = (current_schema(), getattr(current_tenant(), "pk", None))
    version = version_current()
    hit = _index_cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    index: dict[tuple[str, str], list[Workflow]] = {}
    for workflow in Workflow.objects.filter(enabled=True).select_related("current_version"):
        index.setdefault((workflow.object_api_name, workflow.trigger_type), []).append(workflow)
    _index_cache[key] = (version, index)
    return index


def record_event_handle(event: events.RecordEvent) -> None:
    if current_schema() in ("public", settings.TENANT_BASE_SCHEMA):
        return
    trigger_type = {v: k for k, v in EVENT_TRIGGERS.items()}.get(event.action)
    if trigger_type is None:
        return
    workflows = _workflow_index().get((event.object_api_name, trigger_type))
    if not workflows:
        return
    chain = [int(w) for w in event.origin.get("workflows", [])]
    depth = len(chain) + 1
    for workflow in workflows:
        version = workflow.current_version
        if version is None:
            continue
        if workflow.pk in chain:
            log.info("workflow %s not retriggered by its own change", workflow.key)
            continue
        if depth > _max_depth():
            log.warning(
                "workflow %s not triggered: chain %s is at the depth cap", workflow.key, chain
            )
            continue
        if trigger_type == "record_updated" and not _update_matches(version.trigger, event):
            continue
        if trigger_type == "record_deleted" and not values_meet(event.old, version.conditions):
            continue
        run_create(
            workflow=workflow,
            version=version,
            object_api_name=event.object_api_name,
            record_id=event.record_id,
            occurrence_key=_occurrence(version.trigger, event),
            trigger_type=trigger_type,
            event={
                "old": event.old,
                "new": event.new,
                "origin": event.origin,
                "user_id": event.user_id,
            },
            depth=depth,
        )


def workflow_event_fire(
    *, name: str, object_api_name: str, record_id: Any, occurrence: str, data: dict | None = None
) -> list[WorkflowRun]:
    """An upper layer's named event about a record (registered with
    ``registry.event_trigger_register``): a run of every enabled workflow triggered by it,
    queued on commit. ``occurrence`` names this happening, so firing it again (a task
    delivered twice) makes no second run."""
    if current_schema() in ("public", settings.TENANT_BASE_SCHEMA):
        return []
    workflows = _workflow_index().get((object_api_name, "event"))
    if not workflows:
        return []
    origin = events.current_origin()
    chain = [int(w) for w in origin.get("workflows", [])]
    runs = []
    for workflow in workflows:
        version = workflow.current_version
        if version is None or version.trigger.get("event") != name or workflow.pk in chain:
            continue
        if len(chain) + 1 > _max_depth():
            continue
        run = run_create(
            workflow=workflow,
            version=version,
            object_api_name=object_api_name,
            record_id=str(record_id),
            occurrence_key=f"event:{name}:{occurrence}",
            trigger_type="event",
            event={"name": name, "data": data or {}, "origin": origin},
            depth=len(chain) + 1,
        )
        if run is not None:
            runs.append(run)
    return runs


# --- execution ----------------------------------------------------------------------------


def record_load(object_api_name: str, record_id: str) -> Model | None:
    if not object_api_name or not record_id:
        return None
    try:
        return records_queryset(object_api_name=object_api_name).filter(pk=record_id).first()
    except (ValueError, ApplicationError):
        return None


def _step_log(
    run: WorkflowRun | None, index: int, action: str, status: str, detail=None, error: str = ""
) -> dict:
    entry = {
        "index": index,
        "action": action,
        "status": status,
        "detail": detail or {},
        "error": error,
    }
    if run is not None:
        WorkflowRunStep.objects.create(run=run, **entry)
    return entry


def _lease_over(run: WorkflowRun, now) -> bool:
    if run.lease_until is not None:
        return run.lease_until < now
    # Rows from before leases existed: judged by when they started.
    return run.started is None or run.started < now - _lease()


def _due_q(now) -> Q:
    return (
        Q(status=Status.QUEUED)
        | Q(status=Status.WAITING, resume_at__lte=now)
        | Q(status=Status.RUNNING, lease_until__lt=now)
        | Q(status=Status.RUNNING, lease_until__isnull=True, started__lt=now - _lease())
        | Q(status=Status.RUNNING, lease_until__isnull=True, started__isnull=True)
    )


def run_due(run_id: int) -> bool:
    """Whether a message for this run has anything to do (one indexed read): redelivered
    and re-sent messages of finished runs cost no throttle token."""
    return WorkflowRun.objects.filter(_due_q(timezone.now()), pk=run_id).exists()


def _claim(run_id: int) -> WorkflowRun | None:
    now = timezone.now()
    with transaction.atomic():
        run = (
            WorkflowRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version", "workflow")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            return None
        orphaned = run.status == Status.RUNNING and _lease_over(run, now)
        due = (
            run.status == Status.QUEUED
            or orphaned
            or (run.status == Status.WAITING and run.resume_at is not None and run.resume_at <= now)
        )
        if not due:
            return None
        if orphaned and run.attempts >= MAX_ATTEMPTS:
            _abandon(run, now)
            return None
        run.status = Status.RUNNING
        run.started = run.started or now
        run.attempts += 1
        # The claim, not only the process: a process may claim the same run again (a
        # redelivered message) and only the latest claim may write.
        run.locked_by = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        run.lease_until = now + _lease()
        run.save(update_fields=["status", "started", "attempts", "locked_by", "lease_until"])
        return run


def _abandon(run: WorkflowRun, now) -> None:
    """A run whose workers died MAX_ATTEMPTS times (inside the caller's transaction): it
    is failed, with the step it was at in the log, rather than tried forever. One killed
    after its last step had committed did finish, and says so."""
    if run.next_step >= len(run.version.actions):
        run.status, run.error = Status.SUCCEEDED, ""
    else:
        run.status = Status.FAILED
        run.error = (
            f"The worker running it stopped {run.attempts} times; given up at step "
            f"{run.next_step + 1}."
        )
        kind = run.version.actions[run.next_step].get("type", "")
        _step_log(run, run.next_step, kind, "failed", error=run.error)
    run.finished = now
    run.locked_by = ""
    run.lease_until = None
    run.save(update_fields=["status", "error", "finished", "locked_by", "lease_until"])
    _count_outcome(run.status)


def _origin(run: WorkflowRun) -> dict:
    chain = [int(w) for w in (run.event.get("origin") or {}).get("workflows", [])]
    return {"workflow": run.workflow_id, "workflows": [*chain, run.workflow_id], "run": run.pk}


def _owned(run: WorkflowRun):
    return WorkflowRun.objects.filter(pk=run.pk, locked_by=run.locked_by, status=Status.RUNNING)


def _advance(run: WorkflowRun) -> None:
    """The run's position after a step, with its lease renewed, in the step's
    transaction: if another worker took the run over meanwhile, the step rolls back."""
    if not _owned(run).update(next_step=run.next_step, lease_until=timezone.now() + _lease()):
        raise LeaseLost(f"run {run.pk} is no longer held by {run.locked_by}")


def _finish(run: WorkflowRun, status: str, error: str = "", *, countdown: float = 0) -> WorkflowRun:
    now = timezone.now()
    run.status = status
    run.error = error[:2000]
    run.finished = now if status not in (Status.QUEUED, Status.WAITING) else None
    # Queued again (a retry): the sweeper resends it if no worker took it by then.
    lease = _queued_deadline(now, countdown) if status == Status.QUEUED else None
    owner = run.locked_by
    run.locked_by, run.lease_until = "", lease
    done = WorkflowRun.objects.filter(pk=run.pk, locked_by=owner, status=Status.RUNNING).update(
        status=status,
        error=run.error,
        finished=run.finished,
        next_step=run.next_step,
        resume_at=run.resume_at,
        locked_by="",
        lease_until=lease,
    )
    if not done:
        if transaction.get_connection().in_atomic_block:
            raise LeaseLost(f"run {run.pk} is no longer held by {owner}")
        log.warning("workflow run %s: taken over before its outcome was written", run.pk)
    else:
        _count_outcome(status)
    return run


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def workflow_run_execute(*, run_id: int) -> WorkflowRun | None:
    """Run (or resume) one run. Safe to call twice: a finished, running or not-yet-due
    run is left alone (a running one until its lease runs out: then its worker is
    presumed dead and the run resumes at its step). Raises RetryLater after a transient
    failure."""
    run = _claim(run_id)
    if run is None:
        return None
    try:
        return _execute(run)
    except LeaseLost:
        log.warning("workflow run %s: taken over by another worker", run.pk)
        return None


def _execute(run: WorkflowRun) -> WorkflowRun:
    version = run.version
    record = record_load(run.object_api_name, run.record_id)
    ctx = registry.RunContext(
        workflow_id=run.workflow_id,
        version_id=version.pk,
        run_id=run.pk,
        object_api_name=run.object_api_name,
        record_id=run.record_id,
        record=record,
        event=run.event,
        user_id=run.event.get("user_id"),
    )
    if run.next_step == 0 and not run.steps.filter(index=-1).exists():
        if run.trigger_type != "record_deleted":
            if run.object_api_name and run.record_id and record is None:
                _step_log(run, -1, "conditions", "failed", error="The record no longer exists.")
                return _finish(run, Status.FAILED, "The record no longer exists.")
            met = record is None or conditions_met(
                object_api_name=run.object_api_name,
                record_id=run.record_id,
                tree=version.conditions,
            )
        else:
            met = True  # checked on the record's last values when it was deleted
        _step_log(run, -1, "conditions", "succeeded" if met else "skipped", {"met": met})
        if not met:
            return _finish(run, Status.SKIPPED)
    actions = version.actions
    for index in range(run.next_step, len(actions)):
        config = dict(actions[index])
        kind = config.pop("type")
        action = registry.action_types().get(kind)
        ctx.step_index = index
        try:
            with transaction.atomic(), events.event_origin(**_origin(run)):
                if action is None:
                    raise ApplicationError(f"The action {kind!r} is no longer available.")
                if record is not None:
                    record.refresh_from_db()
                outcome = action.run(ctx, config)
                run.next_step = index + 1
                if outcome.wait_seconds:
                    run.resume_at = timezone.now() + timedelta(seconds=outcome.wait_seconds)
                    _step_log(run, index, kind, "waiting", outcome.detail)
                    _finish(run, Status.WAITING)
                    # A message delayed past Redis's visibility timeout would reach a
                    # second worker; long waits are resumed by the scheduler's check.
                    if outcome.wait_seconds <= settings.ATRIUM_WORKFLOW_COUNTDOWN_MAX_SECONDS:
                        transaction.on_commit(
                            functools.partial(
                                task_send,
                                "workflow_run_execute",
                                run.pk,
                                countdown=outcome.wait_seconds,
                            )
                        )
                    return run
                _step_log(run, index, kind, outcome.status, outcome.detail)
                _advance(run)
        except LeaseLost:
            raise
        except TRANSIENT as exc:
            error = _error_text(exc)
            if run.attempts >= MAX_ATTEMPTS:
                _step_log(run, index, kind, "failed", error=error)
                return _finish(run, Status.FAILED, error)
            countdown = min(600, 5 * 2 ** (run.attempts - 1))
            _finish(run, Status.QUEUED, error, countdown=countdown)
            raise RetryLater(countdown=countdown) from exc
        except Exception as exc:  # the run log tells staff what failed and why
            log.info("workflow run %s step %s failed: %s", run.pk, index, exc)
            error = _error_text(exc)
            _step_log(run, index, kind, "failed", error=error)
            return _finish(run, Status.FAILED, error)
    return _finish(run, Status.SUCCEEDED)


# --- runs left behind by dead workers ------------------------------------------------------

SWEEP_BATCH = 500


def runs_sweep(*, now=None) -> dict[str, int]:
    """One tenant's runs left behind (registered with the jobs sweeper, so beat runs it
    in every tenant): a running run whose lease ran out (its worker died mid-step; that
    step rolled back) is queued again and resumes at its step, or is given up after
    MAX_ATTEMPTS; a queued run no worker took by its deadline (its message was lost) is
    sent again. Waiting runs are the scheduler's (``waiting_runs_resume``)."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        stale = list(
            WorkflowRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version")
            .filter(status=Status.RUNNING)
            .filter(
                Q(lease_until__lt=now)
                | Q(lease_until__isnull=True, started__lt=now - _lease())
                | Q(lease_until__isnull=True, started__isnull=True)
            )
            .order_by("pk")[:SWEEP_BATCH]
        )
        requeue = []
        for run in stale:
            if run.attempts >= MAX_ATTEMPTS:
                _abandon(run, now)
                counts["failed"] += 1
            else:
                requeue.append(run.pk)
        WorkflowRun.objects.filter(pk__in=requeue).update(
            status=Status.QUEUED,
            locked_by="",
            lease_until=_queued_deadline(now),
            error="The worker running it stopped; queued again.",
        )
        counts["requeued"] = len(requeue)
        lost = list(
            WorkflowRun.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED)
            .filter(
                Q(lease_until__lt=now)
                | Q(
                    lease_until__isnull=True,
                    created__lt=now - timedelta(seconds=settings.ATRIUM_QUEUED_TIMEOUT_SECONDS),
                )
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        WorkflowRun.objects.filter(pk__in=lost).update(lease_until=_queued_deadline(now))
        counts["resent"] = len(lost)
        for run_id in [*requeue, *lost]:
            transaction.on_commit(functools.partial(task_send, "workflow_run_execute", run_id))
    return counts


# --- dry run and manual runs -------------------------------------------------------------


class _Rollback(Exception):
    pass


def workflow_dry_run(*, workflow: Workflow, record_id: Any = "", actor: Principal) -> dict:
    """What the workflow's current version would do for this record, step by step, with
    every message rendered. Nothing is written or sent: the actions run in dry mode,
    inside a transaction that is rolled back whatever they do. Administrators only; the
    record must be one the principal can see, and rendered texts are withheld when they
    name fields the principal may not read."""
    from metadata.selectors.records import record_for
    from metadata.workflows.masking import detail_masked, reader_may_see_texts

    actor.require_admin("dry-run workflows")
    version = workflow.current_version
    if version is None:
        raise ApplicationError("This workflow has no version yet.", field="workflow")
    record = None
    if workflow.object_api_name:
        if record_id in (None, ""):
            raise ValidationError(
                {"record_id": ValidationError("Choose a record.", code="required")}
            )
        try:
            record_for(actor=actor, object_api_name=workflow.object_api_name, record_id=record_id)
        except NotFound:
            raise NotFound(
                f"No {workflow.object_api_name} with id {record_id}.", field="record_id"
            ) from None
        record = record_load(workflow.object_api_name, str(record_id))
        if record is None:
            raise NotFound(f"No {workflow.object_api_name} with id {record_id}.", field="record_id")
    report: dict[str, Any] = {
        "workflow": workflow.key,
        "version": version.number,
        "object": workflow.object_api_name,
        "record_id": str(record_id or ""),
    }
    steps: list[dict] = []
    try:
        with transaction.atomic():
            met = record is None or conditions_met(
                object_api_name=workflow.object_api_name,
                record_id=str(record.pk),
                tree=version.conditions,
            )
            report["conditions_met"] = met
            steps.append(
                _step_log(None, -1, "conditions", "succeeded" if met else "skipped", {"met": met})
            )
            ctx = registry.RunContext(
                workflow_id=workflow.pk,
                version_id=version.pk,
                run_id=None,
                object_api_name=workflow.object_api_name,
                record_id=str(record_id or ""),
                record=record,
                dry_run=True,
            )
            for index, action_config in enumerate(version.actions if met else []):
                config = dict(action_config)
                kind = config.pop("type")
                action = registry.action_types().get(kind)
                ctx.step_index = index
                try:
                    if action is None:
                        raise ApplicationError(f"The action {kind!r} is no longer available.")
                    outcome = action.run(ctx, config)
                except Exception as exc:  # reported, like a real run would log it
                    steps.append(_step_log(None, index, kind, "failed", error=_error_text(exc)))
                    break
                steps.append(_step_log(None, index, kind, outcome.status, outcome.detail))
            raise _Rollback
    except _Rollback:
        pass
    visible = reader_may_see_texts(actor, version.actions, workflow.object_api_name)
    report["steps"] = [{**s, "detail": detail_masked(s["detail"], visible=visible)} for s in steps]
    return report


MANUAL_MAX = 1000


def workflow_run_manual(
    *,
    workflow: Workflow,
    record_ids: list | None = None,
    filters: list | None = None,
    actor: Principal,
) -> list[WorkflowRun]:
    """Run the workflow now on the given records (or those matching ``filters``, as
    [field, op, value] lists), or once without a record for a workflow with no object.
    Administrators only; the records are those the principal can see (rights, hotel
    scope, readable filter fields)."""
    from metadata.selectors.records import records_list

    actor.require_admin("run workflows")
    version = workflow.current_version
    if version is None:
        raise ApplicationError("This workflow has no version yet.", field="workflow")
    occurrence = f"manual:{uuid.uuid4().hex}"
    ids: list[str]
    if not workflow.object_api_name:
        ids = [""]
    elif record_ids is not None:
        if not isinstance(record_ids, list) or not record_ids:
            raise ValidationError({"record_ids": "Give a non-empty list of record ids."})
        if len(record_ids) > MANUAL_MAX:
            raise ValidationError({"record_ids": f"At most {MANUAL_MAX} records per run."})
        found = {
            str(pk)
            for pk in records_list(actor=actor, object_api_name=workflow.object_api_name)
            .filter(pk__in=[int(r) for r in record_ids if str(r).isdigit() and len(str(r)) < 19])
            .values_list("pk", flat=True)
        }
        missing = [str(r) for r in record_ids if str(r) not in found]
        if missing:
            raise NotFound(
                f"No {workflow.object_api_name} with id {missing[0]}.", field="record_ids"
            )
        ids = [str(r) for r in record_ids]
    elif filters is not None:
        if not isinstance(filters, list) or not all(
            isinstance(f, list) and len(f) == 3 and isinstance(f[0], str) for f in filters
        ):
            raise ValidationError({"filters": "Give a list of [field, operator, value]."})
        queryset = records_list(
            actor=actor,
            object_api_name=workflow.object_api_name,
            filters=[tuple(f) for f in filters],
        )
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[: MANUAL_MAX + 1]]
        if len(ids) > MANUAL_MAX:
            raise ValidationError({"filters": f"More than {MANUAL_MAX} records match; narrow it."})
    else:
        raise ValidationError(
            {"record_ids": ValidationError("Give record_ids or filters.", code="required")}
        )
    runs = []
    with transaction.atomic():
        for record_id in ids:
            run = run_create(
                workflow=workflow,
                version=version,
                object_api_name=workflow.object_api_name,
                record_id=record_id,
                occurrence_key=occurrence,
                trigger_type="manual",
                event={"user_id": actor.user_id},
            )
            if run is not None:
                runs.append(run)
    return runs


inline_register(
    "workflow_run_execute",
    lambda run_id: workflow_run_execute(run_id=run_id),
    retryable=(RetryLater,),
)
