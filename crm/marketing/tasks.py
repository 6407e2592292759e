"""Celery entry points of the marketing module: thin, taking ids, safe to run twice, and
acknowledged late (a killed worker's message is delivered again). Each runs in the
schema of the tenant that queued it (tenant-schemas-celery carries it)."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context


@shared_task(name="crm.marketing.tasks.campaign_start", acks_late=True, reject_on_worker_lost=True)
def campaign_start(campaign_id: int) -> str:
    from crm.marketing.services.campaigns import campaign_start as start

    return "started" if start(campaign_id=campaign_id) else "not due"


@shared_task(
    name="crm.marketing.tasks.campaign_deliver", acks_late=True, reject_on_worker_lost=True
)
def campaign_deliver(campaign_id: int) -> dict:
    """One chunk; queues the next while there is progress, so chunks of several
    campaigns (and hotel groups) take turns on the workers."""
    from crm.marketing.services.campaigns import dispatch
    from crm.marketing.services.delivery import campaign_deliver as deliver

    counts = deliver(campaign_id=campaign_id)
    if counts["sent"] or counts["skipped"] or counts["failed"]:
        dispatch("campaign_deliver", campaign_id)
    return counts


def sweep() -> dict:
    """In the current tenant: start due campaigns, decide due A/B tests, queue again the
    campaigns whose chunks were lost."""
    from django.utils import timezone

    from crm.marketing.models import Campaign
    from crm.marketing.services.campaigns import ab_decide, campaign_start, dispatch
    from crm.marketing.services.delivery import stale_sending

    now = timezone.now()
    due = Campaign.objects.filter(status="scheduled", scheduled_at__lte=now)
    started = [pk for pk in due.values_list("pk", flat=True) if campaign_start(campaign_id=pk)]
    decided = [
        pk
        for pk in Campaign.objects.filter(
            status="sending", ab_winner="", ab_decide_at__lte=now
        ).values_list("pk", flat=True)
        if ab_decide(campaign_id=pk, now=now)
    ]
    stale = stale_sending()
    for pk in stale:
        dispatch("campaign_deliver", pk)
    return {"started": started, "decided": decided, "requeued": stale}


@shared_task(name="crm.marketing.tasks.marketing_sweep", acks_late=True, reject_on_worker_lost=True)
def marketing_sweep(schema_name: str) -> dict:
    from metadata.services.modules import module_enabled
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        if not module_enabled("marketing"):
            return {"skipped": "module off"}
        return sweep()


@shared_task(name="crm.marketing.tasks.marketing_sweep_everywhere", acks_late=True)
def marketing_sweep_everywhere() -> int:
    """Beat entry point: one message per active hotel group with the module on."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work().filter(enabled_modules__contains=["marketing"]):
        marketing_sweep.delay(tenant.schema_name)
        count += 1
    return count
