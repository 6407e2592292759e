"""API keys: shown once, stored hashed, tenant-bound, scoped, revocable, expiring."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.integrations.models import ApiKey
from tenants.integrations.services import api_key_create, api_key_revoke
from tenants.users.models import User
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _key(tenant, scopes=("*",), **kwargs):
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
        return api_key_create(name="PMS", user=user, scopes=list(scopes), **kwargs, actor=SYSTEM)


def _get(tenant, path, token):
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_command_prints_the_key_once_and_stores_only_a_hash(tenant_a):
    out = StringIO()
    call_command(
        "api_key_create",
        "--tenant",
        "alpha",
        "--name",
        "Opera PMS",
        "--scopes",
        "guests:read,reservations:write",
        stdout=out,
    )
    token = out.getvalue().splitlines()[1]
    assert token.startswith("atr_")
    with tenant_context(tenant_a):
        key = ApiKey.objects.get(name="Opera PMS")
        assert key.scopes == ["guests:read", "reservations:write"]
        assert token.split("_", 2)[2] not in key.secret_hash
    response = _get(tenant_a, "/api/v1/guests/", token)
    assert response.status_code == 200
    with tenant_context(tenant_a):
        assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "nope", "--name", "X"], "tenant"),
        (["--tenant", "alpha", "--name", "X", "--scopes", "golf:read"], "scopes"),
        (["--tenant", "alpha", "--name", "X", "--expires", "2020-01-01"], "expires_at"),
        (["--tenant", "alpha", "--name", "X", "--user", "who@x.test"], "user"),
    ],
)
def test_command_refuses_bad_input_naming_the_problem(tenant_a, args, message):
    with pytest.raises(CommandError) as exc:
        call_command("api_key_create", *args, stdout=StringIO())
    assert message in str(exc.value)


def test_a_key_is_worth_nothing_on_another_tenants_domain(tenant_a, tenant_b):
    created = _key(tenant_a)
    assert _get(tenant_a, "/api/v1/me/", created.plaintext).status_code == 200
    response = _get(tenant_b, "/api/v1/me/", created.plaintext)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Unknown API key."


def test_revoked_expired_and_forged_keys_are_refused(tenant_a):
    revoked = _key(tenant_a)
    with tenant_context(tenant_a):
        api_key_revoke(key=revoked.key, actor=SYSTEM)
    response = _get(tenant_a, "/api/v1/me/", revoked.plaintext)
    assert response.status_code == 401 and "revoked" in response.json()["errors"][0]["message"]

    expiring = _key(tenant_a, expires_at=timezone.now() + timedelta(hours=1))
    with tenant_context(tenant_a):
        ApiKey.objects.filter(pk=expiring.key.pk).update(expires_at=timezone.now())
    assert _get(tenant_a, "/api/v1/me/", expiring.plaintext).status_code == 401

    good = _key(tenant_a).plaintext
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert _get(tenant_a, "/api/v1/me/", forged).status_code == 401
    assert _get(tenant_a, "/api/v1/me/", "garbage").status_code == 401


def test_scopes_narrow_what_a_key_may_do(tenant_a):
    reader = _key(tenant_a, scopes=["guests:read"]).plaintext
    client = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {reader}")
    assert client.get("/api/v1/guests/").status_code == 200
    denied = client.post(
        "/api/v1/guests/",
        {"given_name": "A", "surname": "B"},
        content_type="application/json",
    )
    assert denied.status_code == 403
    assert "guests:write" in denied.json()["errors"][0]["message"]
    assert client.get("/api/v1/reservations/").status_code == 403
