"""Breach detection and survey reminders: beat fans out to every active hotel group;
each tenant's run does nothing while the module is off. The sweep records timers past
their due time; a breach is claimed by a conditional update and announced by whoever
claims it. Reminders claim each invitation the same way. Both are safe to run twice and
acknowledged late, so a run killed with its worker is delivered again."""

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


@shared_task(
    name="crm.service.tasks.survey_reminders",
    acks_late=True,
    reject_on_worker_lost=True,
)
def survey_reminders(schema_name: str) -> dict:
    from crm.service.apps import module_on
    from crm.service.services.surveys import survey_reminders_send
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        if not module_on():
            return {"skipped": "module off"}
        return {"reminded": survey_reminders_send()}


@shared_task(name="crm.service.tasks.survey_reminders_everywhere", acks_late=True)
def survey_reminders_everywhere() -> int:
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        survey_reminders.delay(tenant.schema_name)
        count += 1
    return count
