from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import ApplicationError
from tenants.jobs.models import Job
from tenants.jobs.registry import (
    job_abandoned_hook,
    job_handler,
    job_kinds,
    register_job_kind,
    sweepers,
)

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This worker no longer owns the job: its lease ran out and the sweeper queued it
    again (or failed it). Whatever it was about to commit must not be."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.ATRIUM_JOB_LEASE_SECONDS)


def _queued_deadline(now) -> datetime:
    return now + timedelta(seconds=settings.ATRIUM_QUEUED_TIMEOUT_SECONDS)


def _owner_token() -> str:
    # The claim, not just the process: one process may claim the same job twice (a
    # redelivered message), and only the latest claim may write.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _send(job_id) -> None:
    from tenants.jobs.tasks import run_job

    run_job.delay(str(job_id))


@transaction.atomic
def job_enqueue(*, kind: str, payload: dict | None = None, created_by=None) -> Job:
    """Record a job and queue it for the worker once the transaction commits (so the
    worker never looks for a row that is not there yet)."""
    if job_handler(kind) is None:
        raise ApplicationError(
            f"Unknown job kind {kind!r} (known: {', '.join(job_kinds())}).",
            code="unknown_job_kind",
            field="kind",
        )
    job = Job.objects.create(
        kind=kind,
        payload=payload or {},
        created_by=created_by,
        lease_until=_queued_deadline(timezone.now()),
    )
    transaction.on_commit(functools.partial(_send, job.pk))
    return job


def job_start(*, actor: Principal, kind: str, payload: dict | None = None) -> Job:
    """The jobs API's door: an administrator starts a kind registered ``startable``
    (one that takes no file, path or user from its caller). Every other kind is queued
    by the service that owns it."""
    actor.require_admin("start background jobs")
    if job_handler(kind) is None:
        raise ApplicationError(
            f"Unknown job kind {kind!r} (startable here: "
            f"{', '.join(job_kinds(startable=True)) or 'none'}).",
            code="unknown_job_kind",
            field="kind",
        )
    if kind not in job_kinds(startable=True):
        raise ApplicationError(
            f"Jobs of kind {kind!r} cannot be started here (startable: "
            f"{', '.join(job_kinds(startable=True)) or 'none'}); use the service that owns "
            "them, e.g. the import endpoints.",
            code="not_startable",
            field="kind",
        )
    return job_enqueue(kind=kind, payload=payload, created_by=actor.user)


def _lease_over(job: Job, now) -> bool:
    if job.lease_until is not None:
        return job.lease_until < now
    # Rows from before leases existed: judged by when they started.
    return (job.started or job.created) < now - _lease()


def _give_up(job: Job, reason: str) -> None:
    """Fail a job for good without its handler finishing (inside the caller's
    transaction), and let its kind tidy its own state."""
    job.status = Job.Status.FAILED
    job.error = reason
    job.finished = timezone.now()
    job.locked_by = ""
    job.lease_until = None
    job.save(update_fields=["status", "error", "finished", "locked_by", "lease_until"])
    hook = job_abandoned_hook(job.kind)
    if hook is not None:
        try:
            with transaction.atomic():
                hook(job)
        except Exception:  # the job is failed either way; its kind's tidying is best effort
            log.exception("tidying abandoned job %s failed", job.pk)


def _heartbeat(
    stop: threading.Event, job_id, owner: str, schema: str, interval: float, lease: timedelta
) -> None:
    """Renew the lease while the handler runs (one long statement, such as an index
    build, cannot renew it itself). Runs on its own connection, in its own thread, so a
    dead process stops renewing and a live one keeps its job."""
    from django.db import connection as own  # thread-local: this thread's connection

    try:
        while not stop.wait(interval):
            with schema_context(schema):
                now = timezone.now()
                alive = Job.objects.filter(
                    pk=job_id, locked_by=owner, status=Job.Status.RUNNING
                ).update(heartbeat_at=now, lease_until=now + lease)
            if not alive:
                return
    except Exception:  # a missed beat only shortens the lease; the sweeper is the judge
        log.exception("heartbeat of job %s failed", job_id)
    finally:
        own.close()


@contextlib.contextmanager
def _heartbeat_running(job: Job):
    # Inside a transaction (tests run jobs in theirs) the claim is not committed and the
    # row stays locked by this connection: another connection could only wait for it.
    if connection.in_atomic_block:
        yield
        return
    lease = _lease()
    every = lease.total_seconds() / 3
    stop = threading.Event()
    thread = threading.Thread(
        target=_heartbeat,
        args=(stop, job.pk, job.locked_by, current_schema(), every, lease),
        name=f"job-heartbeat-{job.pk}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def job_claim(*, job_id: str) -> tuple[Job | None, bool]:
    """Take the job for this worker: (job, True) if this call now owns it. A queued job is
    taken; so is a running one whose lease ran out (its worker died and the message came
    again). A job at ATRIUM_JOB_MAX_ATTEMPTS is failed instead of run again: a job that
    kills its worker every time must not do so forever."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None:
            return None, False
        orphaned = job.status == Job.Status.RUNNING and _lease_over(job, now)
        if job.status != Job.Status.QUEUED and not orphaned:
            return job, False
        if job.attempts >= settings.ATRIUM_JOB_MAX_ATTEMPTS:
            _give_up(
                job,
                f"Stopped after {job.attempts} attempts: the worker running it stopped each time.",
            )
            return job, False
        job.status = Job.Status.RUNNING
        job.started = job.started or now
        job.attempts += 1
        job.locked_by = _owner_token()
        job.heartbeat_at = now
        job.lease_until = now + _lease()
        job.save(
            update_fields=[
                "status",
                "started",
                "attempts",
                "locked_by",
                "heartbeat_at",
                "lease_until",
            ]
        )
        return job, True


def job_run(*, job_id: str) -> Job | None:
    """Run a queued job once. A job already finished or held by a live worker is left
    alone, so a redelivered message does no harm; one whose worker died is taken over
    and its handler resumes from the job's checkpoint."""
    job, claimed = job_claim(job_id=job_id)
    if job is None or not claimed:
        return job
    handler = job_handler(job.kind)
    with _heartbeat_running(job):
        try:
            if handler is None:
                raise ApplicationError(
                    f"No handler for job kind {job.kind!r}", code="unknown_job_kind"
                )
            result = handler(job)
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; its result is theirs", job.pk)
            return job
        except Exception as exc:  # the job's row records any failure for staff to see
            job.status = Job.Status.FAILED
            job.error = f"{type(exc).__name__}: {exc}"
        else:
            job.status = Job.Status.SUCCEEDED
            job.error = ""
            job.result = result
            job.progress = 100
    job.finished = timezone.now()
    outcome: dict = {
        "status": job.status,
        "error": job.error,
        "result": job.result,
        "progress": job.progress,
        "finished": job.finished,
        "lease_until": None,
    }
    if job.status == Job.Status.SUCCEEDED:
        # Nothing will resume it: the result is the record (a failed job keeps where it
        # stopped, for staff to see).
        outcome["checkpoint"] = job.checkpoint = None
    finished = Job.objects.filter(pk=job.pk, locked_by=job.locked_by).update(**outcome)
    if not finished:
        log.warning("job %s: lease lost before its outcome was written", job.pk)
    return job


def job_checkpoint(*, job: Job, checkpoint: dict, progress: int | None = None) -> None:
    """Record how far the job got, inside the caller's transaction (the one that commits
    the work it describes), and renew the lease. Raises LeaseLost if this worker no
    longer owns the job, which rolls that work back: another worker resumes from the
    checkpoint before it."""
    now = timezone.now()
    changes: dict = {"checkpoint": checkpoint, "heartbeat_at": now, "lease_until": now + _lease()}
    if progress is not None:
        changes["progress"] = progress
    owned = Job.objects.filter(pk=job.pk, locked_by=job.locked_by, status=Job.Status.RUNNING)
    if not owned.update(**changes):
        raise LeaseLost(f"job {job.pk} is no longer held by {job.locked_by}")
    job.checkpoint = checkpoint


SWEEP_BATCH = 500


def job_sweep(*, now=None) -> dict[str, int]:
    """One tenant's jobs left behind: a running job whose lease ran out (its worker died)
    is queued again, or failed at ATRIUM_JOB_MAX_ATTEMPTS; a queued job no worker took by
    its deadline (its message was lost) is sent again. Rows another transaction holds are
    skipped: their owner is alive."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    lease = _lease()
    with transaction.atomic():
        stale = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.RUNNING)
            .filter(
                Q(lease_until__lt=now)
                | Q(lease_until__isnull=True, started__lt=now - lease)
                | Q(lease_until__isnull=True, started__isnull=True, created__lt=now - lease)
            )
            .order_by("created")[:SWEEP_BATCH]
        )
        for job in stale:
            worker = job.locked_by or "unknown"
            if job.attempts >= settings.ATRIUM_JOB_MAX_ATTEMPTS:
                _give_up(
                    job,
                    f"Stopped after {job.attempts} attempts: the worker running it ({worker}) "
                    "stopped each time.",
                )
                counts["failed"] += 1
                continue
            job.status = Job.Status.QUEUED
            job.error = f"The worker running it ({worker}) stopped; queued again."
            job.locked_by = ""
            job.lease_until = _queued_deadline(now)
            job.save(update_fields=["status", "error", "locked_by", "lease_until"])
            transaction.on_commit(functools.partial(_send, job.pk))
            counts["requeued"] += 1
        lost = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.QUEUED)
            .filter(
                Q(lease_until__lt=now)
                | Q(
                    lease_until__isnull=True,
                    created__lt=now - timedelta(seconds=settings.ATRIUM_QUEUED_TIMEOUT_SECONDS),
                )
            )
            .order_by("created")[:SWEEP_BATCH]
        )
        for job in lost:
            job.lease_until = _queued_deadline(now)
            job.save(update_fields=["lease_until"])
            transaction.on_commit(functools.partial(_send, job.pk))
            counts["resent"] += 1
    return counts


def sweep(*, now=None) -> dict[str, dict]:
    """Everything stuck in this tenant: jobs here, and what upper layers registered
    (workflow runs)."""
    out = {"jobs": job_sweep(now=now)}
    for name, sweeper in sweepers().items():
        out[name] = sweeper()
    return out


def jobs_purge_finished(*, older_than_days: int | None = None) -> int:
    days = older_than_days if older_than_days is not None else settings.ATRIUM_JOB_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Job.objects.filter(
        status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED], finished__lt=cutoff
    ).delete()
    return deleted


def _diagnostic(job: Job) -> dict:
    """Proves the background path end to end: which schema and database the worker used."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), current_database()")
        schema, database = cursor.fetchone()
    return {
        "schema": schema,
        "tenant_schema": current_schema(),
        "database": database,
        "worker_host": socket.gethostname(),
        "echo": job.payload.get("echo"),
    }


register_job_kind("diagnostic", _diagnostic, startable=True)
