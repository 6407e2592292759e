"""Scheduled work of crm's core: task reminders. Beat fans out to every active hotel
group; each group's run sends what is due (safe to run twice, acknowledged late, so a
run killed with its worker is delivered again)."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context


@shared_task(name="crm.tasks.task_reminders", acks_late=True, reject_on_worker_lost=True)
def task_reminders(schema_name: str) -> dict:
    from crm.services.reminders import task_reminders_send
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        return {"sent": task_reminders_send()}


@shared_task(name="crm.tasks.task_reminders_everywhere", acks_late=True)
def task_reminders_everywhere() -> int:
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        task_reminders.delay(tenant.schema_name)
        count += 1
    return count
