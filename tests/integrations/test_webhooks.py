"""Outbound webhooks: subscriptions, signing, delivery to a real local HTTP server,
retries, the delivery log, redelivery and automatic disabling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from standardwebhooks.webhooks import Webhook

from crm.services.dedupe import guest_merge
from crm.services.guests import guest_create
from crm.services.properties import property_create
from crm.services.reservations import reservation_create, reservation_status_change
from tenants.access.principal import Principal
from tenants.access.selectors import administrators
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.integrations.webhooks import (
    RETRY_SCHEDULE,
    webhook_attempt,
    webhook_endpoint_create,
    webhook_retries_due,
)
from tests.api.test_records_api import api, patch, post
from tests.principals import SYSTEM

HOOKS = "/api/v1/webhooks/endpoints/"


def as_admin() -> Principal:
    """The current hotel group's first administrator, signed in (no key scopes)."""
    return Principal.of(administrators().first())


def subscribe(**settings) -> WebhookEndpoint:
    """An endpoint made by an administrator, in the current schema."""
    return webhook_endpoint_create(actor=as_admin(), **settings)


def verify(secret: str, received) -> dict:
    """Check the signature the way a receiver would, by hand and with the Standard
    Webhooks reference library."""
    msg_id = received.headers["webhook-id"]
    stamp = received.headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + received.body, hashlib.sha256).digest()
    ).decode()
    assert received.headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(stamp) - time.time()) < 120
    return Webhook(secret).verify(received.body, received.headers)


def deliveries(tenant, **filters) -> list[WebhookDelivery]:
    with tenant_context(tenant):
        return list(WebhookDelivery.objects.filter(**filters).order_by("pk"))


@pytest.mark.django_db
class TestSubscriptions:
    def test_admin_subscribes_and_sees_the_secret(self, tenant_a, receiver):
        client = api(tenant_a)
        response = post(
            client,
            HOOKS,
            {"url": receiver.url, "event_types": ["guest.created", "reservation.*"]},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["secret"].startswith("whsec_")
        assert len(base64.b64decode(body["secret"][6:])) == 24
        assert body["enabled"] is True
        listed = client.get(HOOKS).json()["results"]
        assert [e["id"] for e in listed] == [body["id"]]
        types = client.get("/api/v1/webhooks/event-types/").json()["results"]
        names = {t["type"] for t in types}
        assert {"guest.created", "guest.merged", "reservation.status_changed"} <= names

    @pytest.mark.parametrize(
        ("payload", "field", "code"),
        [
            ({"url": "ftp://x.example/h", "event_types": ["*"]}, "url", "invalid"),
            ({"event_types": ["*"]}, "url", "required"),
            ({"url": "https://x.example/h", "event_types": []}, "event_types", "required"),
            (
                {"url": "https://x.example/h", "event_types": ["guest.teleported"]},
                "event_types",
                "invalid_choice",
            ),
            ({"url": "https://x.example/h", "event_types": "guest.created"}, "event_types", None),
            ({"url": "https://x.example/h", "event_types": ["*"], "colour": 1}, "colour", None),
        ],
    )
    def test_bad_subscriptions_name_the_field(self, tenant_a, payload, field, code):
        response = post(api(tenant_a), HOOKS, payload)
        assert response.status_code == 400, response.content
        error = response.json()["errors"][0]
        assert error["field"] == field
        if code:
            assert error["code"] == code
        with tenant_context(tenant_a):
            assert not WebhookEndpoint.objects.exists()

    def test_private_addresses_are_refused_in_production(self, tenant_a):
        with override_settings(ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS=False):
            for url in ("http://127.0.0.1:9/h", "http://10.1.2.3/h", "http://localhost/h"):
                response = post(api(tenant_a), HOOKS, {"url": url, "event_types": ["*"]})
                assert response.status_code == 400
                assert response.json()["errors"][0]["code"] == "private"

    def test_staff_without_admin_rights_cannot_manage_webhooks(self, tenant_a):
        from django.contrib.auth import get_user_model

        from tests.access.conftest import PASSWORD, client_for

        with tenant_context(tenant_a):
            user = get_user_model().objects.create_user(email="desk@alpha.test", password=PASSWORD)
        response = client_for(user, tenant_a).get(HOOKS)
        assert response.status_code == 403

    def test_events_go_only_to_matching_subscriptions_of_that_tenant(
        self, tenant_a, tenant_b, receiver
    ):
        with tenant_context(tenant_a):
            guests_only = subscribe(url=receiver.url, event_types=["guest.created"])
            reservations = subscribe(url=receiver.url, event_types=["reservation.*"])
            everything = subscribe(url=receiver.url, event_types=["*"])
        client = api(tenant_a)
        created = post(client, "/api/v1/guests/", {"given_name": "Mei", "surname": "Chen"})
        assert created.status_code == 201, created.content
        rows = deliveries(tenant_a)
        assert {(d.endpoint_id, d.event_type) for d in rows} == {
            (guests_only.pk, "guest.created"),
            (everything.pk, "guest.created"),
        }
        assert reservations.pk not in {d.endpoint_id for d in rows}
        payload = rows[0].payload
        assert payload["type"] == "guest.created"
        assert payload["data"]["id"] == str(created.json()["id"])
        assert payload["data"]["record"]["given_name"] == "Mei"
        assert deliveries(tenant_b) == []

    def test_a_write_that_rolls_back_sends_nothing(self, tenant_a, receiver):
        with tenant_context(tenant_a):
            subscribe(url=receiver.url, event_types=["*"])
        response = post(
            api(tenant_a), "/api/v1/guests/", {"given_name": "X", "surname": "Y", "gender": "?"}
        )
        assert response.status_code == 400
        assert deliveries(tenant_a) == []

    def test_status_change_and_merge_have_their_own_events(self, tenant_a, receiver):
        with tenant_context(tenant_a):
            subscribe(url=receiver.url, event_types=["reservation.status_changed", "guest.merged"])
            prop = property_create(
                code="WH1",
                name="Webhook Hotel",
                currency="EUR",
                country="PT",
                timezone="Europe/Lisbon",
                actor=SYSTEM,
            )
            mei = guest_create(
                given_name="Mei", surname="Chen", emails=["mei@example.com"], actor=SYSTEM
            )
            twin = guest_create(
                given_name="Mei", surname="Chen", emails=["mei2@example.com"], actor=SYSTEM
            )
            res = reservation_create(
                property=prop,
                guest=mei,
                confirmation_number="WH-1",
                arrival=date(2026, 12, 1),
                departure=date(2026, 12, 3),
                total_amount=Decimal("300.00"),
                currency="EUR",
                actor=SYSTEM,
            )
            reservation_status_change(reservation=res, status="in_house", actor=SYSTEM)
            guest_merge(survivor=mei, duplicate=twin, actor=SYSTEM)
        rows = deliveries(tenant_a)
        assert [d.event_type for d in rows] == ["reservation.status_changed", "guest.merged"]
        assert rows[0].payload["data"]["old"] == "reserved"
        assert rows[0].payload["data"]["new"] == "in_house"
        assert rows[1].payload["data"]["survivor"] == mei.pk
        assert rows[1].payload["data"]["merged"] == twin.pk


@pytest.mark.django_db
class TestDelivery:
    def _one(self, tenant, receiver, answers=()):
        receiver.answers.extend(answers)
        with tenant_context(tenant):
            endpoint = subscribe(url=receiver.url, event_types=["guest.created"])
            guest_create(given_name="Ana", surname="Silva", actor=SYSTEM)
            return endpoint, WebhookDelivery.objects.get()

    def test_signed_post_reaches_the_receiver(self, tenant_a, receiver):
        endpoint, delivery = self._one(tenant_a, receiver)
        with tenant_context(tenant_a):
            done = webhook_attempt(delivery_id=delivery.pk)
        assert done.status == "succeeded"
        assert done.last_status_code == 200
        [received] = receiver.requests
        assert received.headers["webhook-id"] == delivery.message_id
        assert received.headers["content-type"] == "application/json"
        payload = verify(endpoint.secret, received)
        assert payload["type"] == "guest.created"
        assert payload["data"]["record"]["surname"] == "Silva"

    def test_a_tampered_body_fails_verification(self, tenant_a, receiver):
        endpoint, delivery = self._one(tenant_a, receiver)
        with tenant_context(tenant_a):
            webhook_attempt(delivery_id=delivery.pk)
        received = receiver.requests[0]
        received.body = received.body.replace(b"Silva", b"Evil!")
        with pytest.raises(Exception, match="signature"):
            Webhook(endpoint.secret).verify(received.body, received.headers)

    def test_failures_back_off_then_give_up(self, tenant_a, receiver):
        _, delivery = self._one(tenant_a, receiver, answers=[500] * (len(RETRY_SCHEDULE) + 1))
        with tenant_context(tenant_a):
            first = webhook_attempt(delivery_id=delivery.pk)
            assert first.status == "retrying"
            assert first.last_status_code == 500
            wait = (first.next_attempt_at - timezone.now()).total_seconds()
            assert RETRY_SCHEDULE[0] - 2 < wait <= RETRY_SCHEDULE[0]
            # Not due yet: nothing is sent.
            assert webhook_attempt(delivery_id=delivery.pk) is None
            assert len(receiver.requests) == 1
            total = 0
            for step, pause in enumerate(RETRY_SCHEDULE[1:], start=2):
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=timezone.now()
                )
                again = webhook_attempt(delivery_id=delivery.pk)
                assert again.attempts == step
                assert again.status == "retrying"
                total += pause
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            last = webhook_attempt(delivery_id=delivery.pk)
            assert last.status == "failed"
            assert last.attempts == len(RETRY_SCHEDULE) + 1
            assert WebhookAttempt.objects.filter(delivery=delivery).count() == last.attempts
        # About a day of retries in all.
        assert timedelta(hours=20) < timedelta(seconds=sum(RETRY_SCHEDULE)) < timedelta(hours=30)

    def test_the_sweep_queues_due_retries(self, tenant_a, receiver):
        _, delivery = self._one(tenant_a, receiver, answers=[503])
        with tenant_context(tenant_a):
            webhook_attempt(delivery_id=delivery.pk)
            assert webhook_retries_due() == 0
            # Due, but the retry's countdown message is still on the queue: not queued
            # a second time.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )
            assert webhook_retries_due() == 0
            # A wait too long for a countdown has no message waiting: the sweep queues it,
            # once.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(queued_at=None)
            assert webhook_retries_due() == 1
            assert webhook_retries_due() == 0
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status="succeeded", queued_at=None
            )
            assert webhook_retries_due() == 0

    @override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=3)
    def test_repeated_failures_disable_the_endpoint(self, tenant_a, receiver):
        receiver.answers.extend([500] * 10)
        with tenant_context(tenant_a):
            endpoint = subscribe(url=receiver.url, event_types=["guest.created"])
            for n in range(3):
                guest_create(given_name=f"G{n}", surname="Down", actor=SYSTEM)
            for delivery in WebhookDelivery.objects.order_by("pk"):
                webhook_attempt(delivery_id=delivery.pk)
            endpoint.refresh_from_db()
            assert endpoint.enabled is False
            assert "3 failed attempts" in endpoint.disabled_reason
            # A disabled endpoint gets no new deliveries...
            guest_create(given_name="G4", surname="Down", actor=SYSTEM)
            assert WebhookDelivery.objects.count() == 3
        # ...until an administrator turns it back on.
        client = api(tenant_a)
        response = patch(client, f"{HOOKS}{endpoint.pk}/", {"enabled": True})
        assert response.status_code == 200
        assert response.json()["consecutive_failures"] == 0
        assert response.json()["disabled_reason"] == ""

    def test_delivery_log_and_manual_redelivery(self, tenant_a, receiver):
        endpoint, delivery = self._one(tenant_a, receiver, answers=[404])
        with tenant_context(tenant_a):
            webhook_attempt(delivery_id=delivery.pk)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
        client = api(tenant_a)
        log = client.get(f"{HOOKS}{endpoint.pk}/deliveries/?status=failed").json()["results"]
        assert [d["id"] for d in log] == [delivery.pk]
        assert log[0]["log"][0]["status_code"] == 404
        assert log[0]["log"][0]["response_body"] == "receiver is down"
        bad = client.get(f"{HOOKS}{endpoint.pk}/deliveries/?status=lost")
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "status"
        response = post(client, f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/", {})
        assert response.status_code == 202
        assert response.json()["status"] == "pending"
        with tenant_context(tenant_a):
            again = webhook_attempt(delivery_id=delivery.pk)
        assert again.status == "succeeded"
        # The same message id on both attempts, so receivers can drop duplicates.
        assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
        assert post(client, "/api/v1/webhooks/deliveries/999999/redeliver/", {}).status_code == 404

    def test_unreachable_receiver_is_logged_not_raised(self, tenant_a):
        with tenant_context(tenant_a):
            subscribe(url="http://127.0.0.1:9/nothing", event_types=["*"])
            guest_create(given_name="No", surname="Body", actor=SYSTEM)
            delivery = WebhookDelivery.objects.get()
            done = webhook_attempt(delivery_id=delivery.pk)
            assert done.status == "retrying"
            assert done.last_status_code is None
            assert "ConnectionError" in done.last_error


def test_worker_delivers_after_commit_and_retries_after_a_500(
    celery_worker_process,
    tenant_a,
    receiver,
    django_db_blocker,
):
    """The real path: an API write commits, a real Celery worker signs and POSTs to a
    real HTTP server, which first answers 500; the retry 5 s later succeeds."""
    receiver.answers.append(500)
    with django_db_blocker.unblock():
        client = api(tenant_a)
        hook = post(client, HOOKS, {"url": receiver.url, "event_types": ["guest.created"]})
        assert hook.status_code == 201
        secret = hook.json()["secret"]
        guest = post(client, "/api/v1/guests/", {"given_name": "Mei", "surname": "Chen"})
        assert guest.status_code == 201
        try:
            deadline = time.monotonic() + 90
            delivery = None
            while time.monotonic() < deadline:
                with schema_context(tenant_a.schema_name):
                    delivery = WebhookDelivery.objects.filter(event_type="guest.created").first()
                if delivery and delivery.status == "succeeded":
                    break
                time.sleep(0.3)
            assert delivery is not None
            assert delivery.status == "succeeded", (
                delivery.status,
                delivery.last_error,
                "".join(celery_worker_process[-30:]),
            )
            assert delivery.attempts == 2
            assert [len(receiver.requests), receiver.requests[0].body] == [
                2,
                receiver.requests[1].body,
            ]
            payload = verify(secret, receiver.requests[1])
            assert payload["data"]["id"] == str(guest.json()["id"])
            log = client.get(f"{HOOKS}{hook.json()['id']}/deliveries/").json()["results"][0]
            assert [a["status_code"] for a in log["log"]] == [500, 200]
            with schema_context("bravo"):
                assert not WebhookDelivery.objects.exists()
        finally:
            with schema_context(tenant_a.schema_name):
                from crm.models import Guest

                WebhookEndpoint.objects.all().delete()
                Guest.objects.filter(pk=guest.json()["id"]).delete()
                from crm.models import RecordChange

                RecordChange.objects.filter(record_id=str(guest.json()["id"])).delete()
                from tenants.integrations.models import ApiKey

                ApiKey.objects.filter(name="it").delete()


@pytest.mark.django_db
def test_bulk_upserts_announce_each_record(tenant_a, receiver):
    from metadata.services.definitions import object_definition_create

    with tenant_context(tenant_a):
        object_definition_create(
            api_name="supplier",
            label="Supplier",
            label_plural="Suppliers",
            module="service",
            actor=SYSTEM,
        )
        subscribe(url=receiver.url, event_types=["supplier.*"])
    client = api(tenant_a)
    path = "/api/v1/objects/supplier/records/bulk/"
    first = post(client, path, {"records": [{"external_id": "S1", "name": "Linen Co"}]})
    assert first.json()["results"][0]["status"] == "created"
    post(client, path, {"records": [{"external_id": "S1", "name": "Linen Company"}]})
    rows = deliveries(tenant_a)
    assert [d.event_type for d in rows] == ["supplier.created", "supplier.updated"]
    assert rows[1].payload["data"]["changes"] == {
        "name": {"old": "Linen Co", "new": "Linen Company"}
    }
