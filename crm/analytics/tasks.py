"""The nightly run: retrain the churn model, then rescore every guest. Thin and safe to
run twice (a training run adds a version, scoring replaces the rows); acknowledged late,
so a run killed with its worker is delivered again."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context


@shared_task(
    name="crm.analytics.tasks.analytics_refresh",
    acks_late=True,
    reject_on_worker_lost=True,
)
def analytics_refresh(schema_name: str, train: bool = True) -> dict:
    from crm.analytics.services.churn import churn_model_train
    from crm.analytics.services.rollup import rollup_rebuild
    from crm.analytics.services.scores import scores_refresh
    from crm.analytics.services.warnings import warnings_check
    from metadata.services.modules import module_enabled
    from tenants.access.principal import Principal
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    with tenant_context(tenant):
        if not module_enabled("analytics"):
            return {"skipped": "module off"}
        actor = Principal.system("analytics: nightly run")
        out: dict = {}
        if train:
            model = churn_model_train(actor=actor)
            out["churn_model"] = {"version": model.version, "status": model.status}
        out["rollup_rows"] = rollup_rebuild()
        out.update(scores_refresh(actor=actor))
        out["alerts"] = warnings_check(actor=actor)
        return out


@shared_task(name="crm.analytics.tasks.analytics_nightly_everywhere", acks_late=True)
def analytics_nightly_everywhere() -> int:
    """Beat entry point: one message per active hotel group, carrying its schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work().filter(enabled_modules__contains=["analytics"]):
        analytics_refresh.delay(tenant.schema_name)
        count += 1
    return count
