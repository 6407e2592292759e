from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.access import services


@shared_task(name="tenants.access.tasks.temporary_grants_expire")
def temporary_grants_expire() -> int:
    # The schema was switched by tenant-schemas-celery from the message headers.
    return services.temporary_grants_expire()


@shared_task(name="tenants.access.tasks.temporary_grants_expire_everywhere")
def temporary_grants_expire_everywhere() -> int:
    """Beat entry point: fan out to every hotel group's schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        with schema_context(tenant.schema_name):
            temporary_grants_expire.delay()
        count += 1
    return count
