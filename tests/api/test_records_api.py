"""The object resources and the metadata endpoints, through HTTP as an integrator or a
signed-in admin would use them."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from crm.models import Guest
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def api(tenant) -> Client:
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
        token = api_key_create(name="it", user=user, scopes=["*"], actor=SYSTEM).plaintext
    return Client(HTTP_HOST=f"{tenant.slug}.test", HTTP_AUTHORIZATION=f"Bearer {token}")


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


def test_custom_fields_are_first_class_on_guests(tenant_a):
    client = api(tenant_a)
    made = post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {
            "api_name": "tier",
            "label": "Tier",
            "type": "choice",
            "choices": [{"value": "gold", "labels": {"en": "Gold", "zh-hans": "金卡"}}, "silver"],
            "filterable": True,
        },
    )
    assert made.status_code == 201, made.content
    created = post(
        client,
        "/api/v1/guests/",
        {
            "given_name": "Ana",
            "surname": "Lima",
            "emails": ["ana@example.com"],
            "custom": {"tier": "gold"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["custom"] == {"tier": "gold"} and body["email"] == "ana@example.com"

    bad = post(
        client,
        "/api/v1/guests/",
        {"given_name": "Bo", "surname": "Chen", "custom": {"tier": "iron"}},
    )
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert error["field"] == "tier" and error["code"] == "choice"

    updated = patch(client, f"/api/v1/guests/{body['id']}/", {"custom": {"tier": "silver"}})
    assert updated.status_code == 200 and updated.json()["custom"] == {"tier": "silver"}

    described = client.get("/api/v1/metadata/objects/guest/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    [tier] = [f for f in described.json()["fields"] if f["api_name"] == "tier"]
    assert tier["choices"][0] == {"value": "gold", "label": "金卡"}
    assert tier["type"] == "choice" and tier["index_status"] == "pending"


def test_filters_sorting_search_and_cursor_pages(tenant_a):
    client = api(tenant_a)
    post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {"api_name": "points", "label": "Points", "type": "integer"},
    )
    for i in range(7):
        response = post(
            client,
            "/api/v1/guests/",
            {"given_name": f"G{i}", "surname": "Pager", "custom": {"points": i * 10}},
        )
        assert response.status_code == 201
    url = "/api/v1/guests/?q=Pager&custom.points__gte=20&ordering=-custom.points&limit=2"
    seen = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        seen += [g["custom"]["points"] for g in page.json()["results"]]
        url = page.json()["next"]
    assert seen == [60, 50, 40, 30, 20]
    ascending = client.get("/api/v1/guests/?surname=Pager&ordering=custom.points&limit=3")
    assert [g["custom"]["points"] for g in ascending.json()["results"]] == [0, 10, 20]
    exact = client.get("/api/v1/guests/?given_name=G3&surname=Pager")
    assert [g["given_name"] for g in exact.json()["results"]] == ["G3"]

    for bad, field in (
        ("custom.points__between=1", "points"),
        ("shoe=1", "shoe"),
        ("custom.shoe=1", "custom.shoe"),
        ("points=1", "points"),  # a custom field must be written custom.points
        ("id_document_number=X1", "id_document_number"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=zzz", "cursor"),
        ("custom.points__gte=lots", "points"),
        ("ordering=-custom.nope", "ordering"),
    ):
        response = client.get(f"/api/v1/guests/?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == field


def test_tenant_defined_object_crud_and_bulk_upsert(tenant_a):
    client = api(tenant_a)
    assert (
        post(
            client,
            "/api/v1/metadata/objects/",
            {
                "api_name": "supplier",
                "label": "Supplier",
                "label_plural": "Suppliers",
                "module": "sales",
            },
        ).status_code
        == 201
    )
    post(
        client,
        "/api/v1/metadata/objects/supplier/fields/",
        {
            "api_name": "rating",
            "label": "Rating",
            "type": "integer",
            "rules": {"min_value": 1, "max_value": 5},
        },
    )
    made = post(
        client,
        "/api/v1/objects/supplier/records/",
        {"name": "Fresh Fish Co", "external_id": "S-1", "custom": {"rating": 4}},
    )
    assert made.status_code == 201 and made.json()["custom"] == {"rating": 4}
    record_id = made.json()["id"]

    bulk = post(
        client,
        "/api/v1/objects/supplier/records/bulk/",
        {
            "records": [
                {"external_id": "S-1", "custom": {"rating": 5}},
                {"external_id": "S-2", "name": "Linen Ltd", "custom": {"rating": 3}},
                {"external_id": "S-3", "name": "Bad", "custom": {"rating": 9}},
                {"name": "No key"},
            ]
        },
    )
    assert bulk.status_code == 200
    results = bulk.json()["results"]
    assert [r["status"] for r in results] == ["updated", "created", "error", "error"]
    assert results[0]["id"] == record_id
    assert results[2]["errors"][0]["field"] == "rating"
    assert results[3]["errors"][0]["field"] == "external_id"
    assert client.get(f"/api/v1/objects/supplier/records/{record_id}/").json()["custom"] == {
        "rating": 5
    }
    listed = client.get("/api/v1/objects/supplier/records/?ordering=name").json()["results"]
    assert [r["name"] for r in listed] == ["Fresh Fish Co", "Linen Ltd"]

    assert client.delete(f"/api/v1/objects/supplier/records/{record_id}/").status_code == 204
    assert client.get(f"/api/v1/objects/supplier/records/{record_id}/").status_code == 404


def test_type_change_dry_run_through_the_api(tenant_a):
    client = api(tenant_a)
    post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {"api_name": "room_pref", "label": "Room", "type": "text"},
    )
    for value in ("101", "sea"):
        post(
            client,
            "/api/v1/guests/",
            {"given_name": "R", "surname": value, "custom": {"room_pref": value}},
        )
    path = "/api/v1/metadata/objects/guest/fields/room_pref/type-change/"
    dry = post(client, path, {"type": "integer"})
    assert dry.status_code == 200
    assert (dry.json()["convertible"], dry.json()["failing"]) == (1, 1)
    refused = post(client, path, {"type": "integer", "dry_run": False})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == (
        "type_change_refused"
    )


def test_module_off_hides_its_objects_and_keeps_data(tenant_a):
    client = api(tenant_a)
    company = post(client, "/api/v1/companies/", {"name": "Acme Travel"})
    assert company.status_code == 201, company.content
    admin = tenant_client(tenant_a)
    with tenant_context(tenant_a):
        from metadata.services.modules import module_set_enabled

        module_set_enabled(key="sales", enabled=False, actor=SYSTEM)
    response = admin.get("/api/v1/companies/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "module_disabled"
    names = [o["api_name"] for o in admin.get("/api/v1/metadata/objects/").json()["results"]]
    assert "company" not in names and "guest" in names


def test_unknown_objects_and_isolation_between_tenants(tenant_a, tenant_b):
    client_a, client_b = api(tenant_a), api(tenant_b)
    made = post(client_a, "/api/v1/guests/", {"given_name": "Only", "surname": "Alpha"})
    guest_id = made.json()["id"]
    assert client_b.get(f"/api/v1/guests/{guest_id}/").status_code == 404
    assert client_b.get("/api/v1/guests/?q=Alpha").json()["results"] == []
    assert client_a.get("/api/v1/objects/spaceship/records/").status_code == 404
    with tenant_context(tenant_b):
        assert not Guest.objects.filter(surname="Alpha").exists()


def test_only_admins_change_definitions(tenant_a):
    with tenant_context(tenant_a):
        clerk = User.objects.create_user(
            email="clerk@alpha.test", password="a-Long-test-password-42"
        )
    client = Client(HTTP_HOST="alpha.test")
    assert (
        client.post(
            "/login/", {"username": clerk.email, "password": "a-Long-test-password-42"}
        ).status_code
        == 302
    )
    # Describing an object is reading it: without the view right, a 403.
    assert client.get("/api/v1/metadata/objects/guest/").status_code == 403
    with tenant_context(tenant_a):
        from tenants.access.models import Role
        from tenants.access.services import user_roles_set

        user_roles_set(user=clerk, roles=Role.objects.filter(key="front_office"), actor=SYSTEM)
    assert client.get("/api/v1/metadata/objects/guest/").status_code == 200
    response = post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {"api_name": "x_field", "label": "X", "type": "text"},
    )
    assert response.status_code == 403


def test_contract_routes_and_bad_bodies(tenant_a):
    client = api(tenant_a)
    assert client.get("/api/v1/objects/guest/records/").status_code == 404  # use /guests/
    assert client.get("/api/v1/spaceships/").status_code == 404
    assert client.get("/api/v1/room-types/").status_code == 200
    malformed = client.post("/api/v1/guests/", "{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["message"]
    wrong = post(client, "/api/v1/guests/", {"given_name": "A", "surname": "B", "shoe": 42})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "shoe"
    bad_setting = post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {"api_name": "vip_note", "label": "V", "type": "text", "required": "yes"},
    )
    assert bad_setting.status_code == 400
    assert bad_setting.json()["errors"][0]["field"] == "required"
    made = post(
        client,
        "/api/v1/metadata/objects/guest/fields/",
        {
            "api_name": "tier",
            "label": {"en": "Tier", "zh-hans": "等级"},
            "type": "choice",
            "choices": [{"value": "gold", "label": {"en": "Gold", "zh-hans": "金卡"}}],
        },
    )
    assert made.status_code == 201, made.content
    described = client.get("/api/v1/metadata/objects/guest/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    [tier] = [f for f in described.json()["fields"] if f["api_name"] == "tier"]
    assert tier["label"] == "等级" and tier["choices"] == [{"value": "gold", "label": "金卡"}]


def test_missing_required_fields_are_400s_naming_them(tenant_a):
    client = api(tenant_a)
    for path in (
        "/api/v1/guests/",
        "/api/v1/companies/",
        "/api/v1/properties/",
        "/api/v1/reservations/",
    ):
        response = post(client, path, {})
        assert response.status_code == 400, (path, response.content[:200])
        assert all(e["field"] for e in response.json()["errors"])


def test_json_answers_keep_drf_representation():
    """The fast renderer writes what DRF's encoder wrote: UTC times with Z, decimals as
    numbers, lazy translations and UUIDs as text, serializer dicts as objects."""
    import datetime
    import decimal
    import uuid

    from django.utils.translation import gettext_lazy
    from rest_framework.utils.serializer_helpers import ReturnDict

    from saas.api.renderers import FastJSONRenderer

    data = ReturnDict(
        {
            "at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 1, 2),
            "amount": decimal.Decimal("12.50"),
            "label": gettext_lazy("Guests"),
            "id": uuid.UUID(int=1),
            "rows": [ReturnDict({"a": 1}, serializer=None)],
        },
        serializer=None,
    )
    assert json.loads(FastJSONRenderer().render(data)) == {
        "at": "2026-01-02T03:04:05Z",
        "day": "2026-01-02",
        "amount": "12.50",  # decimals as decimal strings (money is never a float)
        "label": "Guests",
        "id": "00000000-0000-0000-0000-000000000001",
        "rows": [{"a": 1}],
    }
