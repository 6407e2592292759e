"""/api/v1/loyalty/: enrol, read, adjust, rewards, reserve -> confirm / cancel, with the
rights of the caller and errors in the house format."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crm.loyalty.models import LedgerEntry, Member, Redemption
from crm.models import RecordChange
from metadata.services.modules import module_set_enabled
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
BASE = "/api/v1/loyalty/"


def post(client: Client, path: str, body=None):
    return client.post(BASE + path, json.dumps(body or {}), content_type="application/json")


def key_client(tenant, *scopes: str) -> Client:
    admin = User.objects.get(email=f"admin@{tenant.slug}.test")
    token = api_key_create(name="loyalty", user=admin, scopes=list(scopes), actor=SYSTEM).plaintext
    return Client(HTTP_HOST=f"{tenant.slug}.test", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_whole_journey_as_an_administrator(programme):
    tenant = programme["tenant"]
    guest = make_guest(given_name="Mei", surname="Chen")
    admin = tenant_client(tenant)

    enrolled = post(admin, "members/", {"guest": guest.pk})
    assert enrolled.status_code == 201, enrolled.content
    member = enrolled.json()
    assert member["guest"] == guest.pk and member["guest_name"] == "Mei Chen"
    assert member["tier"] == {"key": "silver", "name": "Silver", "rank": 0}
    assert member["balance"] == 0 and len(member["number"]) == 10
    again = post(admin, "members/", {"guest": guest.pk})
    assert again.status_code == 409
    assert again.json()["errors"] == [
        {
            "field": "guest",
            "code": "already_member",
            "message": f"Guest {guest.pk} is already a member.",
        }
    ]

    adjusted = post(admin, "ledger/", {"member": member["id"], "points": 900, "reason": "welcome"})
    assert adjusted.status_code == 201, adjusted.content
    assert (adjusted.json()["kind"], adjusted.json()["source"]) == ("adjust", "staff")
    reward = post(
        admin,
        "rewards/",
        {"key": "breakfast", "name": "Breakfast", "kind": "fnb_credit", "points": 400},
    )
    assert reward.status_code == 201, reward.content

    reserved = post(admin, "redemptions/", {"member": member["id"], "reward": reward.json()["id"]})
    assert reserved.status_code == 201, reserved.content
    assert reserved.json()["status"] == "reserved"
    confirmed = post(admin, f"redemptions/{reserved.json()['id']}/confirm/")
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
    second = post(admin, "redemptions/", {"member": member["id"], "reward": reward.json()["id"]})
    cancelled = post(admin, f"redemptions/{second.json()['id']}/cancel/", {"reason": "no show"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    third = post(admin, "redemptions/", {"member": member["id"], "reward": reward.json()["id"]})
    fourth = post(admin, "redemptions/", {"member": member["id"], "reward": reward.json()["id"]})
    assert third.status_code == 201
    assert fourth.status_code == 409
    [error] = fourth.json()["errors"]
    assert (error["code"], error["field"]) == ("insufficient_points", "points")

    shown = admin.get(BASE + f"members/{member['id']}/").json()
    assert shown["balance"] == 100 and shown["lifetime_points"] == 900
    ledger = admin.get(BASE + f"ledger/?member={member['id']}").json()
    assert [e["kind"] for e in ledger["results"]] == [
        "redeem",
        "reverse",
        "redeem",
        "redeem",
        "adjust",
    ]
    assert sum(e["points"] for e in ledger["results"]) == 100
    page = admin.get(BASE + f"ledger/?member={member['id']}&limit=2").json()
    assert len(page["results"]) == 2 and "cursor=" in page["next"]
    rest = admin.get(page["next"]).json()
    assert [e["id"] for e in rest["results"]] == [e["id"] for e in ledger["results"][2:4]]
    listed = admin.get(BASE + "redemptions/").json()["results"]
    assert sorted(r["status"] for r in listed) == ["cancelled", "confirmed", "reserved"]
    assert admin.get(BASE + "members/?tier=gold").json()["results"] == []
    assert (
        admin.get(BASE + f"members/?number={member['number']}").json()["results"][0]["id"]
        == member["id"]
    )


def test_front_office_redeems_but_cannot_adjust(programme, member, make_user):
    tenant = programme["tenant"]
    admin = tenant_client(tenant)
    post(admin, "ledger/", {"member": member.pk, "points": 300, "reason": "opening"})
    reward = post(admin, "rewards/", {"key": "drink", "name": "Drink", "points": 100}).json()
    desk = client_for(make_user("front_office"), tenant)

    refused = post(desk, "ledger/", {"member": member.pk, "points": 5000, "reason": "friend"})

    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "permission_denied"
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert desk.get(BASE + "members/").json()["results"][0]["balance"] == 300
    assert (
        post(desk, "redemptions/", {"member": member.pk, "reward": reward["id"]}).status_code == 201
    )
    assert post(desk, "rewards/", {"key": "x", "name": "X", "points": 1}).status_code == 403
    assert Member.objects.get(pk=member.pk).balance == 200


def test_adjustments_need_a_reason_and_are_audited_as_the_api(programme, member):
    tenant = programme["tenant"]
    client = key_client(tenant, "loyalty:write")

    missing = post(client, "ledger/", {"member": member.pk, "points": 10})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "reason"
    made = post(client, "ledger/", {"member": member.pk, "points": 10, "reason": "survey"})
    assert made.status_code == 201 and made.json()["source"] == "api"
    assert RecordChange.objects.filter(
        object_api_name="loyalty_account", record_id=str(member.pk), field="balance"
    ).exists()


def test_scopes_and_the_module_switch(programme, member):
    tenant = programme["tenant"]
    reader = key_client(tenant, "loyalty:read")
    assert reader.get(BASE + "members/").status_code == 200
    refused = post(reader, "ledger/", {"member": member.pk, "points": 1, "reason": "x"})
    assert refused.status_code == 403
    assert key_client(tenant, "guests:read").get(BASE + "members/").status_code == 403

    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    off = tenant_client(tenant).get(BASE + "members/")
    assert off.status_code == 403
    assert off.json()["errors"][0]["code"] == "module_disabled"


def test_unknown_records_and_bad_input(programme, member):
    admin = tenant_client(programme["tenant"])
    assert admin.get(BASE + "members/999999/").status_code == 404
    assert post(admin, "redemptions/999999/confirm/").status_code == 404
    bad = post(admin, "redemptions/", {"member": "seven", "reward": 0})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"member", "reward"}
    assert admin.get(BASE + "ledger/?limit=0").status_code == 400
    assert admin.get(BASE + "ledger/?member=abc").status_code == 400
    assert not Redemption.objects.exists()


def test_the_tenant_schema_shows_the_loyalty_routes_only_while_the_module_is_on(programme):
    tenant = programme["tenant"]
    admin = tenant_client(tenant)
    paths = admin.get("/api/v1/schema/?format=json").json()["paths"]
    assert "/api/v1/loyalty/redemptions/{id}/cancel/" in paths
    post_ = paths["/api/v1/loyalty/ledger/"]["post"]
    assert post_["operationId"] == "loyalty_ledger_adjust"
    # Every status the API answers is documented (the shared ones on every write).
    assert {"201", "400", "401", "402", "403", "404", "409", "413", "429"} <= set(
        post_["responses"]
    )

    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)

    paths = admin.get("/api/v1/schema/?format=json").json()["paths"]
    assert not [p for p in paths if p.startswith("/api/v1/loyalty/")]
    assert "/api/v1/guests/" in paths


def test_administrators_set_up_the_programme_in_two_languages(tenant_a):
    from django_tenants.utils import tenant_context

    with tenant_context(tenant_a):
        module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    admin = tenant_client(tenant_a)

    def send(method, path, body):
        return getattr(admin, method)(
            BASE + path, json.dumps(body), content_type="application/json"
        )

    changed = send("patch", "programme/", {"points_per_unit": "2", "expiry_months": 36})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["points_per_unit"], changed.json()["expiry_months"]) == ("2.000", 36)
    silver = send(
        "post",
        "tiers/",
        {
            "key": "silver",
            "name": "Silver",
            "rank": 0,
            "translations": {"zh-hans": {"name": "银卡"}},
        },
    )
    assert silver.status_code == 201, silver.content
    gold = send(
        "post",
        "tiers/",
        {"key": "gold", "name": "Gold", "rank": 1, "min_nights": 10, "earn_multiplier": "1.25"},
    )
    assert gold.status_code == 201, gold.content
    clash = send("post", "tiers/", {"key": "gold2", "name": "Gold", "rank": 1})
    assert (clash.status_code, clash.json()["errors"][0]["field"]) == (409, "rank")
    renamed = send(
        "patch", "tiers/gold/", {"min_nights": 8, "translations": {"zh-hans": {"name": "金卡"}}}
    )
    assert renamed.status_code == 200 and renamed.json()["min_nights"] == 8
    assert send("patch", "tiers/platinum/", {"name": "P"}).status_code == 404
    assert send("patch", "programme/", {"expiry_months": -1}).status_code == 400

    chinese = admin.get(BASE + "programme/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert [(t["key"], t["name"]) for t in chinese["tiers"]] == [
        ("silver", "银卡"),
        ("gold", "金卡"),
    ]
    assert chinese["tiers"][1]["earn_multiplier"] == "1.25"
    with tenant_context(tenant_a):
        guest = make_guest(surname="Lin")
    member = post(admin, "members/", {"guest": guest.pk}).json()
    assert member["tier"]["key"] == "silver"


def test_only_administrators_change_the_programme(programme, make_user):
    desk = client_for(make_user("front_office"), programme["tenant"])
    assert desk.get(BASE + "programme/").status_code == 200
    refused = desk.patch(
        BASE + "programme/", json.dumps({"expiry_months": 1}), content_type="application/json"
    )
    assert refused.status_code == 403
    assert post(desk, "tiers/", {"key": "vip", "name": "VIP", "rank": 5}).status_code == 403
    from crm.loyalty.models import Programme, Tier

    assert Programme.objects.get().expiry_months == 24
    assert not Tier.objects.filter(key="vip").exists()


def test_a_statement_explains_the_balance_of_a_period(programme, member, hotel):
    from datetime import timedelta

    from django.utils import timezone

    from tests.loyalty.conftest import stay

    stay(hotel=hotel, member=member, total="300.00")
    admin = tenant_client(programme["tenant"])
    post(admin, "ledger/", {"member": member.pk, "points": -50, "reason": "correction"})
    today = timezone.localdate()
    path = BASE + f"members/{member.pk}/statement/"

    # A day either side: the period is in the hotel group's time zone, today is UTC's.
    now = admin.get(path, {"start": today - timedelta(days=7), "end": today + timedelta(days=1)})
    now = now.json()
    assert (now["opening_balance"], now["closing_balance"]) == (0, 250)
    assert now["totals"]["earn"] == 300 and now["totals"]["adjust"] == -50
    assert [e["kind"] for e in now["entries"]] == ["earn", "adjust"]
    later = admin.get(path, {"start": today + timedelta(days=2), "end": today + timedelta(days=30)})
    assert later.json()["opening_balance"] == 250 and later.json()["entries"] == []
    backwards = admin.get(path, {"start": today, "end": today - timedelta(days=1)})
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "end"
    assert admin.get(path, {"start": "yesterday"}).status_code == 400
