"""The REST resources apply the access policy: role rights per action, the field
allowlist (sensitive fields hidden), API-key scopes within the user's rights."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.access.models import Role
from tenants.access.principal import Principal
from tenants.access.services import user_roles_set
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
PASSWORD = "a-Long-test-password-42"


def staff(tenant, email: str, role: str) -> tuple[Client, User]:
    with tenant_context(tenant):
        admin = User.objects.get(email=f"admin@{tenant.slug}.test")
        user = User.objects.create_user(email=email, password=PASSWORD)
        user_roles_set(user=user, roles=[Role.objects.get(key=role)], actor=Principal.of(admin))
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    assert client.post("/login/", {"username": email, "password": PASSWORD}).status_code == 302
    return client, user


def test_front_office_never_receives_identity_numbers_or_birth_dates(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(
            birth_date=date(1980, 5, 1), id_document_type="passport", id_document_number="K1234567"
        )
    desk, _ = staff(tenant_a, "desk@alpha.test", "front_office")
    one = desk.get(f"/api/v1/guests/{guest.pk}/")
    assert one.status_code == 200, one.content
    body = one.json()
    assert "id_document_number" not in body and "birth_date" not in body
    assert "K1234567" not in one.content.decode()
    listed = desk.get("/api/v1/guests/").json()["results"]
    assert listed and all("id_document_number" not in g for g in listed)

    admin = Client(HTTP_HOST="alpha.test")
    admin.post("/login/", {"username": "admin@alpha.test", "password": PASSWORD})
    full = admin.get(f"/api/v1/guests/{guest.pk}/").json()
    assert full["birth_date"] == "1980-05-01"
    assert full["id_document_number"].endswith("4567") and "K123" not in full["id_document_number"]


def test_read_only_role_cannot_write_and_gets_a_clear_403(tenant_a):
    reader, _ = staff(tenant_a, "auditor@alpha.test", "read_only")
    assert reader.get("/api/v1/guests/").status_code == 200
    refused = reader.post(
        "/api/v1/guests/", {"given_name": "A", "surname": "B"}, content_type="application/json"
    )
    assert refused.status_code == 403
    error = refused.json()["errors"][0]
    assert error["code"] == "permission_denied" and "results" not in refused.json()


def test_an_api_key_cannot_exceed_its_users_rights(tenant_a):
    _, reader = staff(tenant_a, "bi@alpha.test", "read_only")
    with tenant_context(tenant_a):
        token = api_key_create(name="BI", user=reader, scopes=["*"], actor=SYSTEM).plaintext
    client = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/guests/").status_code == 200
    write = client.post(
        "/api/v1/guests/", {"given_name": "A", "surname": "B"}, content_type="application/json"
    )
    assert write.status_code == 403


def test_every_export_is_checked_and_lands_in_the_audit_log(tenant_a):
    from tenants.access.models import AuditEvent

    with tenant_context(tenant_a):
        make_guest(
            given_name="Exp",
            surname="Orted",
            id_document_type="passport",
            id_document_number="P7654321",
        )
    marketer, user = staff(tenant_a, "mkt@alpha.test", "marketing")
    response = marketer.get("/api/v1/guests/export/?file_format=csv&surname=Orted")
    assert response.status_code == 200, response.content[:300]
    text = response.content.decode()
    assert "Orted" in text and "P7654321" not in text and "id_document" not in text
    with tenant_context(tenant_a):
        event = AuditEvent.objects.filter(action="export", actor_id=user.pk).get()
        assert event.object_api_name == "guest" and event.record_count == 1
    desk, _ = staff(tenant_a, "desk2@alpha.test", "front_office")
    refused = desk.get("/api/v1/guests/export/")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "permission_denied"
