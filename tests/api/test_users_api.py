"""Staff accounts and roles scripted through the API and the command: administrators
only, every change through the services, audited."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from tenants.access.models import AuditEvent
from tenants.access.principal import Principal
from tenants.users.models import User
from tests.access.test_attacks import key_client, member, session_client
from tests.crm.factories import make_property

pytestmark = pytest.mark.django_db


def admin(tenant, *scopes):
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
    return key_client(tenant, user, *(scopes or ("*",)))


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def patch(client, path, data):
    return client.patch(path, json.dumps(data), content_type="application/json")


def test_an_admin_creates_scopes_and_deactivates_a_user(tenant_a):
    with tenant_context(tenant_a):
        hotel = make_property(code="USR1")
    client = admin(tenant_a)
    made = post(
        client,
        "/api/v1/users/",
        {
            "email": "desk@alpha.test",
            "full_name": "Desk",
            "roles": ["front_office"],
            "property_ids": [hotel.pk],
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["roles"] == ["front_office"] and body["property_ids"] == [hotel.pk]
    assert len(body["one_time_password"]) >= 12 and body["is_admin"] is False
    listed = client.get("/api/v1/users/").json()["results"]
    assert "one_time_password" not in json.dumps(listed)
    changed = patch(client, f"/api/v1/users/{body['id']}/", {"roles": ["reservations"]})
    assert changed.json()["roles"] == ["reservations"]
    gone = patch(client, f"/api/v1/users/{body['id']}/", {"is_active": False})
    assert gone.json()["is_active"] is False
    with tenant_context(tenant_a):
        actions = set(
            AuditEvent.objects.filter(
                object_api_name="user", record_id=str(body["id"])
            ).values_list("action", flat=True)
        )
    assert {"user_create", "role_assign", "property_scope_change", "user_deactivate"} <= actions


def test_bad_user_input_is_named(tenant_a):
    client = admin(tenant_a)
    for body, field in (
        ({"email": "not-an-address"}, "email"),
        ({"email": "x@alpha.test", "roles": ["emperor"]}, "roles"),
        ({"email": "y@alpha.test", "property_ids": [987654]}, "property_ids"),
        ({"email": "admin@alpha.test"}, "email"),
    ):
        response = post(client, "/api/v1/users/", body)
        assert response.status_code == 400, (body, response.content)
        assert response.json()["errors"][0]["field"] == field


def test_only_administrators_and_admin_scopes_reach_users_and_roles(tenant_a):
    manager = member(tenant_a, "gm-users@alpha.test", "general_manager")
    refused = session_client(tenant_a, manager).get("/api/v1/users/")
    assert refused.status_code == 403
    narrow = admin(tenant_a, "guests:write")
    assert narrow.get("/api/v1/users/").status_code == 403
    reader = admin(tenant_a, "admin:read")
    assert reader.get("/api/v1/roles/").status_code == 200
    assert post(reader, "/api/v1/roles/", {"key": "x", "name": "X"}).status_code == 403
    writer = admin(tenant_a, "admin:write")
    made = post(writer, "/api/v1/roles/", {"key": "night_audit", "name": "Night audit"})
    assert made.status_code == 201 and made.json()["built_in"] is False
    assert writer.get("/api/v1/roles/night_audit/").json()["name"] == "Night audit"


def test_the_last_administrator_cannot_be_deactivated(tenant_a):
    client = admin(tenant_a)
    with tenant_context(tenant_a):
        me = User.objects.get(email="admin@alpha.test")
    other = member(tenant_a, "second-admin@alpha.test", "tenant_admin")
    assert patch(client, f"/api/v1/users/{me.pk}/", {"is_active": False}).status_code == 400
    second = key_client(tenant_a, other, "*")
    assert patch(second, f"/api/v1/users/{me.pk}/", {"is_active": False}).status_code == 200
    assert patch(client, "/api/v1/users/999999/", {"roles": []}).status_code in (401, 404)


def test_the_command_creates_a_scoped_user_and_prints_the_password_once(tenant_a, capsys):
    with tenant_context(tenant_a):
        make_property(code="CMD1")
    call_command(
        "user_create",
        "--tenant",
        "alpha",
        "--email",
        "night@alpha.test",
        "--roles",
        "front_office",
        "--properties",
        "cmd1",
    )
    out = capsys.readouterr().out
    password = out.split("one-time password:")[1].strip()
    with tenant_context(tenant_a):
        user = User.objects.get(email="night@alpha.test")
        assert user.check_password(password) and user.must_change_password
        assert Principal.of(user).property_ids() is not None
    with pytest.raises(CommandError, match="properties: no hotel with the code NOPE"):
        call_command("user_create", "--tenant", "alpha", "--email", "z@alpha.test",
                     "--properties", "NOPE")  # fmt: skip
    with pytest.raises(CommandError, match="roles"):
        call_command("user_create", "--tenant", "alpha", "--email", "z@alpha.test",
                     "--roles", "emperor")  # fmt: skip
    with pytest.raises(CommandError, match="tenant"):
        call_command("user_create", "--tenant", "nope", "--email", "z@alpha.test")
