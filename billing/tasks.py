from celery import shared_task

from billing.services.stripe_sync import billing_lifecycle_run


@shared_task
def billing_lifecycle() -> dict:
    return billing_lifecycle_run()
