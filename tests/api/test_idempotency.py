"""Idempotency-Key: a retried write is answered from the first answer, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Guest
from tenants.integrations.idempotency import idempotency_purge
from tenants.integrations.models import IdempotencyRecord
from tests.api.test_records_api import api

pytestmark = pytest.mark.django_db


def send(client, body, key, method="post", path="/api/v1/guests/"):
    return getattr(client, method)(
        path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_retried_create_is_replayed_not_repeated(tenant_a):
    client = api(tenant_a)
    body = {"given_name": "Mei", "surname": "Once"}
    first = send(client, body, "create-mei-1")
    again = send(client, body, "create-mei-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with tenant_context(tenant_a):
        assert Guest.objects.filter(surname="Once").count() == 1

    changed = send(client, {"given_name": "Mei", "surname": "Twice"}, "create-mei-1")
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["code"] == "idempotency_mismatch"

    # Another key creates another guest; the same key from other credentials is separate.
    assert send(client, body, "create-mei-2").status_code == 201
    assert send(api(tenant_a), body, "create-mei-1").status_code == 201
    with tenant_context(tenant_a):
        assert Guest.objects.filter(surname="Once").count() == 3


def test_errors_are_replayed_too_and_keys_expire(tenant_a):
    client = api(tenant_a)
    bad = {"given_name": "X", "surname": "Y", "shoe": 1}
    first = send(client, bad, "bad-1")
    assert first.status_code == 400
    assert send(client, bad, "bad-1")["Idempotent-Replayed"] == "true"
    with tenant_context(tenant_a):
        IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
        assert idempotency_purge() >= 1
        assert not IdempotencyRecord.objects.exists()
    assert send(client, bad, "bad-1").get("Idempotent-Replayed") is None


def test_in_flight_key_answers_409(tenant_a):
    client = api(tenant_a)
    created = send(client, {"given_name": "A", "surname": "Flight"}, "flight-1")
    assert created.status_code == 201
    with tenant_context(tenant_a):
        IdempotencyRecord.objects.filter(key="flight-1").update(status_code=0)
    busy = send(client, {"given_name": "A", "surname": "Flight"}, "flight-1")
    assert busy.status_code == 409 and busy.json()["errors"][0]["code"] == "in_progress"
