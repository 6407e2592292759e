"""/api/v1/offers/ and /api/v1/marketing/: the journeys of a booking engine and of a
marketer, errors in the house format, rights and the module switch."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crm.marketing.models import Campaign
from metadata.services.modules import module_set_enabled
from tests.conftest import PASSWORD, tenant_client
from tests.crm.factories import make_guest
from tests.marketing.conftest import TEMPLATE
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_a_booking_engine_validates_and_redeems_a_code_once(marketing):
    admin = tenant_client(marketing)
    made = post(
        admin,
        "/api/v1/offers/",
        {"key": "flash", "name": "Flash", "discount_kind": "percent", "discount_value": "20"},
    )
    assert made.status_code == 201, made.content
    offer = made.json()
    assert (offer["discount_value"], offer["codes"]) == ("20", 0)
    shared = post(admin, f"/api/v1/offers/{offer['id']}/codes/", {"code": "FLASH", "max_uses": 1})
    assert shared.status_code == 201 and shared.json()["results"][0]["code"] == "FLASH"
    bulk = post(admin, f"/api/v1/offers/{offer['id']}/codes/", {"count": 3, "prefix": "F"})
    assert len(bulk.json()["results"]) == 3

    quote = post(admin, "/api/v1/offers/validate/", {"code": "flash", "amount": "150.00"})
    assert quote.status_code == 200
    assert quote.json() == {
        "valid": True,
        "code": "FLASH",
        "offer": "flash",
        "discount": "30.00",
        "currency": "",
    }
    body = {"code": "FLASH", "reference": "BK-1", "amount": "150.00", "currency": "EUR"}
    first = post(admin, "/api/v1/offers/redeem/", body)
    again = post(admin, "/api/v1/offers/redeem/", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["repeated"] is True
    other = post(admin, "/api/v1/offers/redeem/", {**body, "reference": "BK-2"})
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "used_up"
    unknown = post(admin, "/api/v1/offers/validate/", {"code": "NOPE"})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    "path, body, field",
    [
        (
            "/api/v1/offers/",
            {"key": "x", "name": "X", "discount_kind": "percent"},
            "discount_value",
        ),
        (
            "/api/v1/offers/",
            {"key": "x", "name": "X", "discount_kind": "amount", "discount_value": "5"},
            "currency",
        ),
        ("/api/v1/offers/validate/", {"code": "A", "amount": "lots"}, "amount"),
        ("/api/v1/offers/redeem/", {"code": "A"}, "reference"),
        ("/api/v1/marketing/segments/count/", {"definition": {"colour": 1}}, "colour"),
        (
            "/api/v1/marketing/segments/count/",
            {"definition": {"conditions": [{"field": "nope", "op": "eq", "value": 1}]}},
            "conditions",
        ),
        ("/api/v1/marketing/templates/", {"key": "t", "name": "T", "contents": {}}, "contents"),
        (
            "/api/v1/marketing/templates/",
            {"key": "t", "name": "T", "contents": {"en": {"subject": "{{ secret }}", "body": "b"}}},
            "contents.en.subject",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(marketing, path, body, field):
    response = post(tenant_client(marketing), path, body)
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}


def test_a_marketer_builds_a_segment_writes_a_template_and_schedules_a_campaign(
    marketing, make_user
):
    marketer = make_user("marketing")
    client = Client(HTTP_HOST="alpha.test")
    assert (
        client.post("/login/", {"username": marketer.email, "password": PASSWORD}).status_code
        == 302
    )
    french = [make_guest(surname=f"Fr{n}", nationality="FR") for n in range(3)]
    make_guest(surname="De", nationality="DE")
    definition = {"conditions": [{"field": "nationality", "op": "eq", "value": "FR"}]}

    counted = post(client, "/api/v1/marketing/segments/count/", {"definition": definition})
    assert counted.json() == {"count": 3}
    made = post(client, "/api/v1/marketing/segments/", {"name": "French", "definition": definition})
    assert made.status_code == 201 and made.json()["count"] == 3
    segment = made.json()["id"]
    members = client.get(f"/api/v1/marketing/segments/{segment}/members/")
    assert {m["id"] for m in members.json()["results"]} == {g.pk for g in french}
    of_guest = client.get(f"/api/v1/marketing/segments/?guest={french[0].pk}")
    assert [s["id"] for s in of_guest.json()["results"]] == [segment]

    template = post(
        client,
        "/api/v1/marketing/templates/",
        {"key": "spring", "name": "Spring", "contents": TEMPLATE},
    )
    assert template.status_code == 201, template.content
    preview = post(
        client,
        f"/api/v1/marketing/templates/{template.json()['id']}/preview/",
        {"language": "zh-hans", "guest": french[0].pk},
    )
    assert preview.json()["subject"] == f"{french[0].surname}，春季优惠"
    assert "https://hotel.example/zh/spring" in preview.json()["text"]

    campaign = post(
        client,
        "/api/v1/marketing/campaigns/",
        {"name": "Spring", "segment": segment, "template": template.json()["id"]},
    )
    assert campaign.status_code == 201, campaign.content
    pk = campaign.json()["id"]
    scheduled = post(
        client, f"/api/v1/marketing/campaigns/{pk}/schedule/", {"at": "2030-03-01T09:00:00+01:00"}
    )
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    assert Campaign.objects.get(pk=pk).scheduled_at.isoformat() == "2030-03-01T08:00:00+00:00"
    twice = post(client, f"/api/v1/marketing/campaigns/{pk}/resume/")
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "campaign_state"
    report = client.get(f"/api/v1/marketing/campaigns/{pk}/report/")
    assert report.status_code == 200 and report.json()["base_currency"] == "EUR"


def test_roles_and_the_module_switch_decide(marketing, make_user):
    sales = make_user("sales")
    client = Client(HTTP_HOST="alpha.test")
    client.post("/login/", {"username": sales.email, "password": PASSWORD})
    assert client.get("/api/v1/marketing/segments/").status_code == 403
    admin = tenant_client(marketing)
    assert admin.get("/api/v1/marketing/campaigns/").status_code == 200
    module_set_enabled(key="marketing", enabled=False, actor=SYSTEM)
    closed = admin.get("/api/v1/marketing/campaigns/")
    assert closed.status_code == 403
    assert closed.json()["errors"][0]["code"] == "module_disabled"


def test_staff_suppress_an_address_by_hand(marketing):
    admin = tenant_client(marketing)
    added = post(
        admin, "/api/v1/marketing/suppressions/", {"channel": "email", "address": "No@Guest.test"}
    )
    assert added.status_code == 201, added.content
    assert (added.json()["address"], added.json()["reason"]) == ("no@guest.test", "manual")
    bad = post(admin, "/api/v1/marketing/suppressions/", {"channel": "sms", "address": "123"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "address"
    listed = admin.get("/api/v1/marketing/suppressions/?channel=email").json()["results"]
    assert [s["address"] for s in listed] == ["no@guest.test"]
