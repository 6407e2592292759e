"""Breach detection: beat fans out to every hotel group with the module on; each
tenant's sweep records timers past their due time. Safe to run twice (a breach is
claimed by a conditional update, announced by whoever claims it) and acknowledged late,
so a sweep killed with its worker is delivered again."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context


@shared_task(
    name="crm.service.tasks.sla_sweep",
    acks_late=True,
    reject_on_worker_lost=True,
)
def sla_sweep(schema_name: str) -> dict:
    from crm.service.apps import module_on
    from crm.service.services.sla import sla_breaches_detect, sla_missing_start
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        if not module_on():
            return {"skipped": "module off"}
        return {"started": sla_missing_start(), "breached": sla_breaches_detect()}


@shared_task(name="crm.service.tasks.sla_sweep_everywhere", acks_late=True)
def sla_sweep_everywhere() -> int:
    """Beat entry point: one message per active hotel group, carrying its schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        sla_sweep.delay(tenant.schema_name)
        count += 1
    return count
