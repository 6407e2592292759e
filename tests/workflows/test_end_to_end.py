"""End to end with a real Celery worker and the real broker (Redis when
CELERY_BROKER_URL is set, else the filesystem transport): a reservation moved to
checked-out through the API sends, in that tenant only, the post-stay e-mail in the
guest's language over SMTP, and the run log shows it."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from crm.models import Activity, Guest, Property, RecordChange, Reservation
from metadata.models import OutboxMessage, Workflow, WorkflowRun
from metadata.services.workflows import workflow_template_load
from tests.api.test_records_api import api, patch, post
from tests.celery_worker import worker_start, worker_stop
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.workflows.smtp import header, smtp_server, text_of


@pytest.fixture
def smtp_and_worker(django_db_setup):
    controller, inbox = smtp_server()
    proc, lines = worker_start(
        {
            "ATRIUM_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(controller.port),
        },
        name="wf",
    )
    yield inbox, lines
    worker_stop(proc)
    controller.stop()


def _wait(predicate, lines, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail("timed out; worker said:\n" + "".join(lines[-40:]))


def test_checkout_through_the_api_sends_the_post_stay_email(
    smtp_and_worker, tenant_a, tenant_b, django_db_blocker
):
    inbox, lines = smtp_and_worker
    template = workflow_template_load("post_stay_survey")["workflows"][0]
    with django_db_blocker.unblock():
        client = api(tenant_a)
        made = post(
            client,
            "/api/v1/workflows/",
            {
                "key": "e2e_post_stay",
                "name": template["name"],
                "object": "reservation",
                "trigger": {
                    "type": "record_updated",
                    "fields": ["status"],
                    "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}],
                },
                "actions": template["actions"],
            },
        )
        assert made.status_code == 201, made.content
        with tenant_context(tenant_a):
            prop = make_property(name="Harbour Lisbon")
            guest = make_guest(
                given_name="Wei", surname="Chen", language="zh-hans", emails=["wei.e2e@example.com"]
            )
            reservation = make_reservation(
                property=prop, guest=guest, arrival=date(2026, 4, 1), status="in_house"
            )
        try:
            moved = patch(
                client, f"/api/v1/reservations/{reservation.pk}/", {"status": "checked_out"}
            )
            assert moved.status_code == 200, moved.content

            def sent():
                with tenant_context(tenant_a):
                    return OutboxMessage.objects.filter(
                        status="sent", record_id=str(reservation.pk)
                    ).first()

            message = _wait(sent, lines)
            assert (message.recipient, message.language) == ("wei.e2e@example.com", "zh-hans")
            assert message.subject == "您在Harbour Lisbon的住宿体验如何？"
            received = _wait(lambda: inbox.messages, lines)
            assert len(received) == 1
            assert header(received[0], "Subject") == "您在Harbour Lisbon的住宿体验如何？"
            assert received[0]["Content-Language"] == "zh-hans"
            assert "感谢您于2026年4月1日至2026年4月3日入住" in text_of(received[0])

            log = client.get("/api/v1/workflows/e2e_post_stay/runs/").json()["results"]
            assert [r["status"] for r in log] == ["succeeded"]
            assert [(s["action"], s["status"]) for s in log[0]["steps"]] == [
                ("conditions", "succeeded"),
                ("send_email", "succeeded"),
            ]
            assert log[0]["steps"][1]["detail"]["outbox_id"] == message.pk
            with tenant_context(tenant_b):
                assert not WorkflowRun.objects.exists()
                assert not OutboxMessage.objects.exists()
        finally:
            with tenant_context(tenant_a):
                ids = [str(reservation.pk), str(guest.pk), str(prop.pk)]
                OutboxMessage.objects.all().delete()
                WorkflowRun.objects.all().delete()
                Workflow.objects.all().delete()
                Activity.objects.filter(record_id__in=ids).delete()
                Reservation.objects.filter(pk=reservation.pk).delete()
                Guest.objects.filter(pk=guest.pk).delete()
                Property.objects.filter(pk=prop.pk).delete()
                RecordChange.objects.filter(record_id__in=ids).delete()
                from tenants.integrations.models import ApiKey

                ApiKey.objects.filter(name="it").delete()


@pytest.mark.django_db
def test_the_post_stay_actions_also_fit_a_checkout_trigger(tenant_a):
    # (Also makes pytest-django set up the test database when this file runs alone.)
    from metadata.workflows.definition import definition_clean

    template = workflow_template_load("post_stay_survey")["workflows"][0]
    with tenant_context(tenant_a):
        trigger, _, actions = definition_clean(
            object_api_name="reservation",
            trigger={
                "type": "record_updated",
                "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}],
            },
            conditions={},
            actions=template["actions"],
        )
    assert trigger["changes"][0]["to"] == {"op": "eq", "value": "checked_out"}
    assert actions[0]["subject"]["zh-hans"] == "您在{{ hotel.name }}的住宿体验如何？"
