from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django_tenants.utils import schema_context

from tenants.jobs import services

log = logging.getLogger(__name__)


# Late acknowledgement (settings): a worker dying mid-job leaves the message to be
# delivered again, and job_run takes the job over only once its lease has run out.
# A database that blinks while the job is claimed or its outcome written is retried.
@shared_task(
    name="tenants.jobs.tasks.run_job",
    autoretry_for=(ConnectionError, OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=3,
)
def run_job(job_id: str) -> None:
    # The schema was switched by tenant-schemas-celery from the message headers.
    services.job_run(job_id=job_id)


@shared_task(name="tenants.jobs.tasks.purge_finished_jobs")
def purge_finished_jobs() -> int:
    """Hourly per tenant: finished jobs past retention, expired idempotency records."""
    from tenants.integrations.idempotency import idempotency_purge

    idempotency_purge()
    return services.jobs_purge_finished()


@shared_task(name="tenants.jobs.tasks.purge_finished_jobs_everywhere")
def purge_finished_jobs_everywhere() -> int:
    """Beat entry point: fan out to every hotel group's schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        with schema_context(tenant.schema_name):
            purge_finished_jobs.delay()
        count += 1
    return count


@shared_task(name="tenants.jobs.tasks.sweep")
def sweep() -> dict:
    """Per tenant: jobs and workflow runs left behind by dead workers."""
    counts = services.sweep()
    if any(n for group in counts.values() for n in group.values()):
        log.warning("swept stuck work: %s", counts)
    return counts


@shared_task(name="tenants.jobs.tasks.sweep_everywhere")
def sweep_everywhere() -> int:
    """Beat entry point (every ATRIUM_SWEEP_SECONDS): fan out to every hotel group."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        with schema_context(tenant.schema_name):
            sweep.delay()
        count += 1
    return count
