"""The workflow endpoints, as an integrator (API key) or an administrator uses them."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from metadata.models import OutboxMessage, Workflow
from tests.api.test_records_api import api, patch, post
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow

pytestmark = pytest.mark.django_db

DEFINITION = {
    "key": "vip_welcome",
    "name": {"en": "VIP welcome", "zh-hans": "贵宾欢迎"},
    "object": "guest",
    "trigger": {"type": "record_updated", "fields": ["vip_level"]},
    "conditions": {"all": [{"field": "vip_level", "op": "gte", "value": 1}]},
    "actions": [{"type": "add_tag", "tag": "vip"}],
}


def test_create_read_update_with_versions(tenant_a, inline):
    client = api(tenant_a)
    made = post(client, "/api/v1/workflows/", DEFINITION)
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["key"], body["name"], body["version"], body["owner_module"]) == (
        "vip_welcome",
        "VIP welcome",
        1,
        "guests",
    )
    assert body["translations"]["zh-hans"] == {"name": "贵宾欢迎"}
    changed = patch(
        client,
        "/api/v1/workflows/vip_welcome/",
        {"actions": [{"type": "add_tag", "tag": "very-vip"}], "enabled": False},
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["version"], changed.json()["enabled"]) == (2, False)
    detail = client.get(f"/api/v1/workflows/{body['id']}/").json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    listed = client.get("/api/v1/workflows/").json()["results"]
    assert [w["key"] for w in listed] == ["vip_welcome"]
    with tenant_context(tenant_a):
        assert Workflow.objects.get(key="vip_welcome").versions.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"key": "Bad Key"}, "key", "key"),
        ({"object": "spaceship"}, "object", "object"),
        ({"trigger": {"type": "record_moved"}}, "trigger.type", "trigger"),
        ({"trigger": {"type": "record_updated", "fields": ["shoe"]}}, "trigger.fields[0]", "field"),
        ({"trigger": {"type": "date_relative", "field": "surname"}}, "trigger.field", "field"),
        ({"trigger": {"type": "schedule", "cron": "61 * * * *"}}, "trigger.cron", "invalid"),
        (
            {"conditions": {"all": [{"field": "vip_level", "op": "near", "value": 1}]}},
            "conditions.all[0].op",
            "operator",
        ),
        ({"actions": [{"type": "teleport"}]}, "actions[0].type", "action"),
        ({"actions": [{"type": "add_tag"}]}, "actions[0].tag", "required"),
        ({"actions": []}, "actions", "required"),
        ({"colour": "red"}, "colour", "unknown"),
        ({"owner_module": "spa"}, "owner_module", "module"),
        # Found by schemathesis: translations of the wrong shape were a 500.
        ({"translations": ["zh-hans"]}, "translations", "invalid"),
        ({"translations": {"zh-hans": "名字"}}, "translations", "invalid"),
        ({"name": {"en": ["x"]}}, "name", "invalid"),
    ],
)
def test_bad_definitions_are_400_naming_the_field(tenant_a, change, field, code):
    response = post(api(tenant_a), "/api/v1/workflows/", {**DEFINITION, **change})
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, code), error
    assert error["message"]


def test_dry_run_manual_run_and_run_log(tenant_a, inline, django_capture_on_commit_callbacks):
    client = api(tenant_a)
    assert post(client, "/api/v1/workflows/", DEFINITION).status_code == 201
    with tenant_context(tenant_a):
        guest = make_guest(vip_level=2)
    dry = post(client, "/api/v1/workflows/vip_welcome/dry-run/", {"record_id": guest.pk})
    assert dry.status_code == 200, dry.content
    assert dry.json()["steps"][1]["detail"]["tags"] == ["vip"]
    assert (
        post(client, "/api/v1/workflows/vip_welcome/dry-run/", {"record_id": 999999}).json()[
            "errors"
        ][0]["field"]
        == "record_id"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ran = post(client, "/api/v1/workflows/vip_welcome/run/", {"record_ids": [guest.pk]})
    assert ran.status_code == 202, ran.content
    [run] = ran.json()["runs"]
    log = client.get("/api/v1/workflows/vip_welcome/runs/").json()["results"]
    assert [r["id"] for r in log] == [run["id"]] and log[0]["status"] == "succeeded"
    assert [s["action"] for s in log[0]["steps"]] == ["conditions", "add_tag"]
    one = client.get(f"/api/v1/workflows/runs/{run['id']}/").json()
    assert one["record_id"] == str(guest.pk) and one["trigger"] == "manual"
    for path, body, field in (
        ("/api/v1/workflows/vip_welcome/run/", {}, "record_ids"),
        ("/api/v1/workflows/vip_welcome/run/", {"record_ids": "7"}, "record_ids"),
        ("/api/v1/workflows/vip_welcome/run/", {"filters": [["nope", "eq", 1]]}, "nope"),
        ("/api/v1/workflows/vip_welcome/dry-run/", {}, "record_id"),
    ):
        response = post(client, path, body)
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == field
    assert client.get("/api/v1/workflows/vip_welcome/runs/?status=odd").status_code == 400
    assert client.get("/api/v1/workflows/nope/").status_code == 404
    with tenant_context(tenant_a):
        assert OutboxMessage.objects.count() == 0


def test_templates_list_and_import(tenant_a, inline):
    client = api(tenant_a)
    listed = client.get("/api/v1/workflows/templates/").json()["results"]
    assert {t["template"] for t in listed} == {
        "pre_arrival",
        "post_stay_survey",
        "vip_arrival",
        "birthday_greeting",
        "win_back",
        "complaint_escalation",
    }
    plan = post(client, "/api/v1/workflows/templates/post_stay_survey/import/", {})
    assert plan.status_code == 200 and plan.json()["steps"] == [
        {"key": "post_stay_survey", "action": "create"}
    ]
    applied = post(
        client, "/api/v1/workflows/templates/post_stay_survey/import/", {"dry_run": False}
    )
    assert applied.status_code == 201
    again = post(client, "/api/v1/workflows/templates/post_stay_survey/import/", {"dry_run": False})
    assert again.json()["steps"] == [{"key": "post_stay_survey", "action": "unchanged"}]
    assert (
        post(client, "/api/v1/workflows/templates/nope/import/", {}).json()["errors"][0]["field"]
        == "template"
    )
    assert (
        post(client, "/api/v1/workflows/templates/win_back/import/", {"dry_run": "no"}).status_code
        == 400
    )
    actions = {a["type"] for a in client.get("/api/v1/workflows/actions/").json()["results"]}
    assert {
        "update_field",
        "create_task",
        "create_case",
        "send_email",
        "send_sms",
        "webhook",
        "add_tag",
        "remove_tag",
        "assign_owner",
        "wait",
    } <= actions


def test_only_administrators_change_workflows(tenant_a):
    from django.test import Client

    from tenants.access.models import Role
    from tenants.access.services import user_roles_set
    from tenants.integrations.services import api_key_create
    from tenants.users.services import user_create

    with tenant_context(tenant_a):
        user, _ = user_create(email="desk@alpha.test", actor=SYSTEM)
        user_roles_set(user=user, roles=Role.objects.filter(key="front_office"), actor=SYSTEM)
        token = api_key_create(name="desk", user=user, scopes=["*"], actor=SYSTEM).plaintext
        make_workflow("existing", actions=[{"type": "add_tag", "tag": "x"}])
    client = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {token}")
    # Workflows are an administration door, reads included (one administrator rule).
    assert client.get("/api/v1/workflows/").status_code == 403
    refused = post(client, "/api/v1/workflows/", DEFINITION)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "permission_denied"
    assert patch(client, "/api/v1/workflows/existing/", {"enabled": False}).status_code == 403


def test_tenants_see_only_their_own_workflows(tenant_a, tenant_b):
    assert post(api(tenant_a), "/api/v1/workflows/", DEFINITION).status_code == 201
    assert api(tenant_b).get("/api/v1/workflows/").json()["results"] == []
    assert api(tenant_b).get("/api/v1/workflows/vip_welcome/").status_code == 404
