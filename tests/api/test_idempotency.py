"""Idempotency-Key: a retried write is answered from the first answer, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Guest
from tenants.integrations.idempotency import idempotency_purge
from tenants.integrations.models import ApiKey, IdempotencyRecord
from tenants.integrations.services import api_key_create
from tests.api.test_api_access import staff
from tests.api.test_records_api import api
from tests.principals import SYSTEM

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


def test_unauthenticated_writes_store_nothing_and_are_refused(tenant_a):
    body = {"given_name": "No", "surname": "Body"}
    anonymous = Client(HTTP_HOST="alpha.test")
    forged = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION="Bearer atr_nope_nothing")
    for client in (anonymous, anonymous, forged, forged):
        response = send(client, body, "anon-1")
        assert response.status_code in (401, 403)
        assert response.get("Idempotent-Replayed") is None
    with tenant_context(tenant_a):
        assert not IdempotencyRecord.objects.exists()
        assert not Guest.objects.filter(surname="Body").exists()


def test_each_caller_gets_its_own_answer_for_the_same_key(tenant_a):
    body = {"given_name": "Same", "surname": "Key"}
    desk, desk_user = staff(tenant_a, "desk-idem@alpha.test", "front_office")
    manager, manager_user = staff(tenant_a, "gm-idem@alpha.test", "general_manager")
    with tenant_context(tenant_a):
        tokens = [
            api_key_create(name="pms", user=u, scopes=["*"], actor=SYSTEM).plaintext
            for u in (desk_user, manager_user)
        ]
    keyed = [Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {t}") for t in tokens]

    firsts = [send(client, body, "shared-key") for client in (desk, manager, *keyed)]
    assert [r.status_code for r in firsts] == [201, 201, 201, 201]
    ids = [r.json()["id"] for r in firsts]
    assert len(set(ids)) == 4  # nobody was answered with somebody else's guest
    for client, first_id in zip((desk, manager, *keyed), ids, strict=True):
        again = send(client, body, "shared-key")
        assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first_id
    with tenant_context(tenant_a):
        assert Guest.objects.filter(surname="Key").count() == 4
        assert set(IdempotencyRecord.objects.values_list("principal", flat=True)) == {
            f"u:{desk_user.pk}",
            f"u:{manager_user.pk}",
            *(f"k:{pk}" for pk in ApiKey.objects.filter(name="pms").values_list("pk", flat=True)),
        }


def test_a_refusal_is_not_kept_so_a_retry_runs_again(tenant_a):
    reader, _user = staff(tenant_a, "reader-idem@alpha.test", "read_only")
    refused = send(reader, {"given_name": "Not", "surname": "Allowed"}, "refused-1")
    assert refused.status_code == 403
    with tenant_context(tenant_a):
        assert not IdempotencyRecord.objects.filter(key="refused-1").exists()
