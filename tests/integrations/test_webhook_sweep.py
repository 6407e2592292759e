"""The per-minute retry sweep claims what it queues, and a delivery is sent once however
many messages for it arrive (reliability issue: one sweep added 1,000 duplicates to
1,437 pending deliveries)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.integrations import webhooks
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.integrations.webhooks import QUEUE_LEASE, webhook_attempt, webhook_retries_due
from tests.integrations.test_webhooks import subscribe


def make_deliveries(endpoint: WebhookEndpoint, count: int, **fields) -> list[int]:
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type="guest.created",
            payload={"type": "guest.created", "data": {"n": n}},
            **fields,
        )
        for n in range(count)
    )
    ids = [d.pk for d in rows]
    # Published a while ago: old enough for the sweep to look at pending ones.
    WebhookDelivery.objects.filter(pk__in=ids).update(created=timezone.now() - timedelta(minutes=5))
    return ids


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """What reaches the broker: the ids handed to the queue, in order."""
    sent: list[int] = []
    lock = threading.Lock()

    def enqueue(ids, countdown=0):
        with lock:
            sent.extend(ids)

    monkeypatch.setattr(webhooks, "_enqueue", enqueue)
    return sent


@pytest.mark.django_db
def test_a_backlog_waiting_in_the_queue_is_not_queued_again(
    alpha, receiver, queued, django_capture_on_commit_callbacks
):
    endpoint = subscribe(url=receiver.url, event_types=["guest.*"])
    now = timezone.now()
    # 30 published two minutes ago whose messages still wait behind a backlog, and 5
    # retries that came due with no message on the queue (waits too long for one).
    backlog = make_deliveries(endpoint, 30, queued_at=now - timedelta(minutes=2))
    retries = make_deliveries(
        endpoint,
        5,
        status=WebhookDelivery.Status.RETRYING,
        next_attempt_at=now - timedelta(seconds=1),
        attempts=3,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_retries_due() == 5
    assert sorted(queued) == retries
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_retries_due() == 0  # the next minute: all of them are claimed
    assert len(queued) == 5

    # Ten minutes on, the backlog's messages are presumed lost: queued again, once.
    WebhookDelivery.objects.filter(pk__in=backlog).update(
        queued_at=now - QUEUE_LEASE - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_retries_due() == 30
        assert webhook_retries_due() == 0
    assert sorted(queued) == sorted(retries + backlog)
    assert len(set(queued)) == len(queued)


@pytest.mark.django_db
def test_publishing_and_retrying_claim_their_own_messages(alpha, receiver, queued):
    """A delivery is claimed when its first message is queued, and again when a retry
    rides on a countdown, so the sweep leaves both alone."""
    from tests.crm.factories import make_guest

    receiver.answers.append(503)
    subscribe(url=receiver.url, event_types=["guest.created"])
    make_guest()
    delivery = WebhookDelivery.objects.get()
    assert delivery.queued_at is not None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created=timezone.now() - timedelta(minutes=5)
    )
    assert webhook_retries_due() == 0
    failed = webhook_attempt(delivery_id=delivery.pk)
    assert failed.status == "retrying" and failed.queued_at is not None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_retries_due() == 0


@pytest.fixture
def committed(tenant_a, django_db_blocker, receiver):
    """Rows other database connections can see (no test transaction around them), for
    tests that race two workers; removed afterwards."""
    with django_db_blocker.unblock(), schema_context(tenant_a.schema_name):
        endpoint = subscribe(url=receiver.url, event_types=["guest.*"])
        try:
            yield endpoint
        finally:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def _in_thread(tenant_schema: str, work) -> threading.Thread:
    def run():
        try:
            with schema_context(tenant_schema):
                work()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_two_sweeps_at_once_claim_different_rows(committed, tenant_a, queued, monkeypatch):
    monkeypatch.setattr(webhooks, "SWEEP_BATCH", 10)
    ids = make_deliveries(committed, 25)
    claimed = threading.Event()
    release = threading.Event()
    first: list[int] = []

    def slow_sweep():
        # The first sweep has picked and claimed its rows but not committed yet.
        with transaction.atomic():
            first.append(webhook_retries_due())
            claimed.set()
            release.wait(30)

    thread = _in_thread(tenant_a.schema_name, slow_sweep)
    assert claimed.wait(30)
    second = webhook_retries_due()  # skips the rows the first one holds
    release.set()
    thread.join(30)
    third = webhook_retries_due()  # the rest
    assert (first, second, third) == ([10], 10, 5)
    assert sorted(queued) == ids
    assert webhook_retries_due() == 0


def test_a_delivery_is_sent_once_when_two_workers_get_it(committed, tenant_a, receiver):
    """The same delivery queued twice (the sweep and a redelivered message) reaches two
    workers together: the one that locks the row sends, the other leaves it alone."""
    [pk] = make_deliveries(committed, 1)
    receiver.delay = 1.0
    results: list = []
    threads = [
        _in_thread(tenant_a.schema_name, lambda: results.append(webhook_attempt(delivery_id=pk)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.join(30)
    sent = [r for r in results if r is not None]
    assert len(results) == 2 and len(sent) == 1
    assert sent[0].status == "succeeded"
    assert len(receiver.requests) == 1
    # A late duplicate of a delivered message does nothing either.
    assert webhook_attempt(delivery_id=pk) is None
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery_id=pk).count() == 1
