"""Webhook attempts and deliveries are counted for /metrics once their rows commit."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from crm.services.guests import guest_create
from tenants.integrations.models import WebhookDelivery
from tenants.integrations.webhooks import (
    RETRY_SCHEDULE,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DELIVERIES,
    webhook_attempt,
)
from tests.integrations.test_webhooks import subscribe
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _count(counter, **labels) -> float:
    return counter.labels(**labels)._value.get()


def test_a_delivered_and_a_given_up_webhook_are_counted(
    tenant_a, receiver, django_capture_on_commit_callbacks
):
    ok_before = _count(WEBHOOK_ATTEMPTS, result="ok")
    error_before = _count(WEBHOOK_ATTEMPTS, result="error")
    succeeded_before = _count(WEBHOOK_DELIVERIES, status="succeeded")
    failed_before = _count(WEBHOOK_DELIVERIES, status="failed")
    receiver.answers.extend([200] + [500] * (len(RETRY_SCHEDULE) + 1))
    with tenant_context(tenant_a):
        subscribe(url=receiver.url, event_types=["guest.created"])
        guest_create(given_name="Ana", surname="Silva", actor=SYSTEM)
        guest_create(given_name="Rui", surname="Costa", actor=SYSTEM)
        first, second = WebhookDelivery.objects.order_by("pk")
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_attempt(delivery_id=first.pk).status == "succeeded"
            for _ in range(len(RETRY_SCHEDULE) + 1):
                WebhookDelivery.objects.filter(pk=second.pk).update(next_attempt_at=None)
                last = webhook_attempt(delivery_id=second.pk)
        assert last.status == "failed"

    assert _count(WEBHOOK_ATTEMPTS, result="ok") - ok_before == 1
    assert _count(WEBHOOK_ATTEMPTS, result="error") - error_before == len(RETRY_SCHEDULE) + 1
    assert _count(WEBHOOK_DELIVERIES, status="succeeded") - succeeded_before == 1
    assert _count(WEBHOOK_DELIVERIES, status="failed") - failed_before == 1
