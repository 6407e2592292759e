"""Celery tasks of the workflow engine: thin, idempotent, taking ids. Each runs in the
schema of the tenant that queued it (tenant-schemas-celery)."""

from __future__ import annotations

import random

from celery import shared_task
from django_tenants.utils import schema_context

from metadata.workflows import engine, messaging, scheduler, throttle


@shared_task(bind=True, name="metadata.tasks.workflow_run_execute", max_retries=None)
def workflow_run_execute(self, run_id: int) -> str:
    # Messages come twice by design (late acknowledgement, the sweeper's re-sends): one
    # whose run has nothing to do must not spend the tenant's throughput.
    if not engine.run_due(run_id):
        return "not due"
    wait = throttle.throttle_take()
    if wait > 0:
        # Over this tenant's cap: back to the queue (not a retry; nothing failed), with
        # jitter so a flood does not come back as one wave.
        workflow_run_execute.apply_async(args=[run_id], countdown=wait + random.uniform(0, 1))  # noqa: S311
        return "throttled"
    try:
        run = engine.workflow_run_execute(run_id=run_id)
    except engine.RetryLater as exc:
        raise self.retry(countdown=exc.countdown, max_retries=engine.MAX_ATTEMPTS) from exc
    return run.status if run is not None else "not due"


@shared_task(
    bind=True, name="metadata.tasks.outbox_deliver", max_retries=messaging.MAX_DELIVERY_ATTEMPTS
)
def outbox_deliver(self, message_id: int) -> str:
    try:
        message = messaging.outbox_deliver(message_id=message_id)
    except messaging.TransientDeliveryError as exc:
        raise self.retry(countdown=min(900, 30 * 2**self.request.retries)) from exc
    return message.status if message is not None else "not queued"


@shared_task(name="metadata.tasks.workflows_schedule")
def workflows_schedule() -> dict:
    return scheduler.workflows_schedule()


@shared_task(name="metadata.tasks.workflows_schedule_everywhere")
def workflows_schedule_everywhere() -> int:
    """Beat entry point: each active tenant's check, spread over the spread window."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        with schema_context(tenant.schema_name):
            workflows_schedule.apply_async(countdown=scheduler.spread_seconds(tenant.schema_name))
        count += 1
    return count
