from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context


@shared_task(name="tenants.integrations.tasks.webhook_deliver")
def webhook_deliver(delivery_id: int) -> str:
    # The schema was switched by tenant-schemas-celery from the message headers.
    from tenants.integrations.webhooks import webhook_attempt

    delivery = webhook_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else "skipped"


@shared_task(name="tenants.integrations.tasks.webhook_retries")
def webhook_retries() -> int:
    from tenants.integrations.webhooks import webhook_retries_due

    return webhook_retries_due()


@shared_task(name="tenants.integrations.tasks.webhook_retries_everywhere")
def webhook_retries_everywhere() -> int:
    """Beat entry point: every minute, in every active hotel group's schema."""
    from tenants.selectors import tenants_for_background_work

    count = 0
    for tenant in tenants_for_background_work():
        with schema_context(tenant.schema_name):
            webhook_retries.delay()
        count += 1
    return count
