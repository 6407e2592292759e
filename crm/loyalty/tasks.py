"""The nightly run: expire due points, re-qualify tiers, post stays that were missed.
Thin and safe to run twice (each step only does what is still due); acknowledged late,
so a run killed with its worker is delivered again."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context


@shared_task(
    name="crm.loyalty.tasks.loyalty_nightly",
    acks_late=True,
    reject_on_worker_lost=True,
)
def loyalty_nightly(schema_name: str) -> dict:
    from crm.loyalty.services.ledger import expiry_run
    from crm.loyalty.services.stays import stays_reconcile
    from crm.loyalty.services.tiers import tiers_review
    from metadata.services.modules import module_enabled
    from tenants.access.principal import Principal
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        if not module_enabled("loyalty"):
            return {"skipped": "module off"}
        actor = Principal.system("loyalty: nightly run")
        return {
            "reconciled": stays_reconcile(actor=actor),
            "expired": expiry_run(actor=actor),
            **tiers_review(actor=actor),
        }


@shared_task(name="crm.loyalty.tasks.loyalty_nightly_everywhere", acks_late=True)
def loyalty_nightly_everywhere() -> int:
    """Beat entry point: one message per active hotel group, carrying its schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work().filter(enabled_modules__contains=["loyalty"]):
        loyalty_nightly.delay(tenant.schema_name)
        count += 1
    return count
