from __future__ import annotations

import socket
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import ApplicationError
from tenants.jobs.models import Job
from tenants.jobs.registry import job_handler, job_kinds, register_job_kind


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
    job = Job.objects.create(kind=kind, payload=payload or {}, created_by=created_by)

    from tenants.jobs.tasks import run_job

    transaction.on_commit(lambda: run_job.delay(str(job.pk)))
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


def job_run(*, job_id: str) -> Job | None:
    """Run a queued job once. A job already finished or taken by another worker is left
    alone, so a redelivered message does no harm."""
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return job
        job.status = Job.Status.RUNNING
        job.started = timezone.now()
        job.save(update_fields=["status", "started"])
    handler = job_handler(job.kind)
    try:
        if handler is None:
            raise ApplicationError(f"No handler for job kind {job.kind!r}", code="unknown_job_kind")
        result = handler(job)
    except Exception as exc:  # the job's row records any failure for staff to see
        job.status = Job.Status.FAILED
        job.error = f"{type(exc).__name__}: {exc}"
    else:
        job.status = Job.Status.SUCCEEDED
        job.result = result
        job.progress = 100
    job.finished = timezone.now()
    job.save(update_fields=["status", "error", "result", "progress", "finished"])
    return job


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
