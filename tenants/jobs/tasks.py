from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.jobs import services


@shared_task(name="tenants.jobs.tasks.run_job", autoretry_for=(ConnectionError,), max_retries=3)
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
