"""The "call an outbound webhook" action through the API's webhook delivery: signed
deliveries to the tenant's subscribed endpoints, queued when the run's step commits."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from tenants.integrations import webhooks
from tenants.integrations.models import WebhookDelivery
from tenants.integrations.webhooks import webhook_attempt
from tests.crm.factories import make_guest
from tests.integrations.receiver import receiver_start
from tests.integrations.test_webhooks import subscribe, verify
from tests.workflows.conftest import make_workflow, runs_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    state, server = receiver_start()
    yield state
    server.shutdown()


def test_webhook_action_delivers_a_signed_event(alpha, commit, receiver, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(webhooks, "_enqueue", lambda ids, countdown=0: queued.extend(ids))
    endpoint = subscribe(url=receiver.url, event_types=["workflow.*"])
    subscribe(url=receiver.url + "other", event_types=["guest.deleted"])
    workflow = make_workflow(
        "notify",
        actions=[
            {"type": "webhook", "event_type": "workflow.new_guest", "data": {"source": "crm"}}
        ],
    )
    with commit():
        guest = make_guest()
    [run] = runs_of(workflow)
    assert run.status == "succeeded"
    step = run.steps.get(index=0)
    assert step.detail["deliveries"] == 1
    [delivery] = WebhookDelivery.objects.all()
    assert queued == [delivery.pk] and delivery.endpoint_id == endpoint.pk
    webhook_attempt(delivery_id=delivery.pk)
    [received] = receiver.requests
    body = verify(endpoint.secret, received)
    assert body["type"] == "workflow.new_guest"
    assert body["data"] == {
        "workflow_id": workflow.pk,
        "run_id": run.pk,
        "object": "guest",
        "record_id": str(guest.pk),
        "source": "crm",
    }
    assert json.loads(received.body)["data"]["record_id"] == str(guest.pk)


def test_webhook_events_cannot_pose_as_record_events(alpha):
    for bad in ("guest.created", "workflow.", "Workflow.X", ""):
        with pytest.raises(ValidationError) as info:
            make_workflow("bad", actions=[{"type": "webhook", "event_type": bad}])
        assert list(info.value.error_dict) == ["actions[0].event_type"]
