"""/api/v1/service-levels/, /service-calendars/, /cases/{id}/sla/, /surveys/,
/survey-responses/ and /survey-measures/: statuses, bodies, errors in the house format,
the caller's rights, hotel scope, API-key scopes and the module switch."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client

from crm.models import Case
from crm.service.models import Response
from crm.services.cases import case_create
from metadata.services.modules import module_set_enabled
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.crm.factories import make_guest, make_reservation
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db
API = "/api/v1/"
SURVEY = {
    "key": "post-stay",
    "title": "How was your stay?",
    "translations": {"zh-hans": {"title": "您的住宿体验如何？"}},
    "questions": [
        {"key": "recommend", "kind": "nps", "text": "Would you recommend us?", "required": True},
        {"key": "overall", "kind": "csat", "text": "Overall satisfaction"},
    ],
}


def post(client: Client, path: str, body=None):
    return client.post(API + path, json.dumps(body or {}), content_type="application/json")


def patch(client: Client, path: str, body):
    return client.patch(API + path, json.dumps(body), content_type="application/json")


def key_client(tenant, *scopes: str) -> Client:
    admin = User.objects.get(email=f"admin@{tenant.slug}.test")
    token = api_key_create(name="service", user=admin, scopes=list(scopes), actor=SYSTEM).plaintext
    return Client(HTTP_HOST=f"{tenant.slug}.test", HTTP_AUTHORIZATION=f"Bearer {token}")


def _error(response) -> tuple[str | None, str]:
    [error] = response.json()["errors"]
    return error["field"], error["code"]


def test_service_levels_are_kept_by_managers_and_read_by_agents(hotels, make_user):
    admin = tenant_client(_tenant())
    created = post(
        admin,
        "service-levels/",
        {
            "category": "fnb",
            "priority": "urgent",
            "first_response_minutes": 10,
            "resolution_minutes": 90,
        },
    )
    assert created.status_code == 201, created.content
    level = created.json()
    assert (level["category"], level["priority"], level["resolution_minutes"]) == (
        "fnb",
        "urgent",
        90,
    )
    again = post(
        admin,
        "service-levels/",
        {
            "category": "fnb",
            "priority": "urgent",
            "first_response_minutes": 5,
            "resolution_minutes": 9,
        },
    )
    assert again.status_code == 409 and _error(again) == ("priority", "duplicate")
    bad = post(
        admin,
        "service-levels/",
        {"priority": "whenever", "first_response_minutes": 5, "resolution_minutes": 9},
    )
    assert bad.status_code == 400 and _error(bad)[0] == "priority"
    backwards = post(
        admin,
        "service-levels/",
        {"priority": "low", "first_response_minutes": 50, "resolution_minutes": 9},
    )
    assert backwards.status_code == 400 and _error(backwards)[0] == "first_response_minutes"
    changed = patch(admin, f"service-levels/{level['id']}/", {"resolution_minutes": 120})
    assert changed.status_code == 200 and changed.json()["resolution_minutes"] == 120

    agent = client_for(make_user("service_agent"), _tenant())
    listed = agent.get(API + "service-levels/")
    assert listed.status_code == 200
    assert {(r["category"], r["priority"]) for r in listed.json()["results"]} == {
        ("room", "high"),
        ("fnb", "urgent"),
    }
    refused = post(
        agent,
        "service-levels/",
        {"priority": "low", "first_response_minutes": 5, "resolution_minutes": 9},
    )
    assert refused.status_code == 403 and _error(refused)[1] == "permission_denied"


def _tenant():
    from tenants.models import Tenant

    return Tenant.objects.get(slug="alpha")


def test_a_hotels_calendar_is_set_then_replaced(hotels):
    admin = tenant_client(_tenant())
    body = {
        "property": hotels["paris"].pk,
        "hours": [{"weekday": 0, "opens": "08:00", "closes": "20:00"}],
        "holidays": [{"day": "2026-12-25", "name": "Noël"}],
    }
    replaced = post(admin, "service-calendars/", body)
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["hours"] == [{"weekday": 0, "opens": "08:00", "closes": "20:00"}]
    assert replaced.json()["holidays"] == [{"day": "2026-12-25", "name": "Noël"}]
    group = post(admin, "service-calendars/", {"property": None, "hours": []})
    assert group.status_code == 201 and group.json()["property"] is None
    wrong = post(
        admin,
        "service-calendars/",
        {**body, "hours": [{"weekday": 0, "opens": "18:00", "closes": "09:00"}]},
    )
    assert wrong.status_code == 400 and _error(wrong)[0] == "hours[0].closes"
    zone = post(admin, "service-calendars/", {**body, "timezone": "Mars/Olympus"})
    assert zone.status_code == 400 and _error(zone)[0] == "timezone"
    nowhere = post(admin, "service-calendars/", {**body, "property": 999_999})
    assert nowhere.status_code == 404


def test_a_cases_timers_are_read_paused_and_resumed_through_the_api(hotels, clock, make_user):
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS))
    case = case_create(
        subject="Cold shower",
        category="room",
        priority="high",
        property=hotels["paris"],
        actor=SYSTEM,
    )
    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    read = agent.get(f"{API}cases/{case.pk}/sla/")
    assert read.status_code == 200, read.content
    body = read.json()
    assert body["first_response"]["state"] == "running"
    assert body["first_response"]["due_at"] == "2026-03-10T11:00:00Z"
    assert body["resolution"]["target_minutes"] == 480

    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=PARIS))
    paused = post(agent, f"cases/{case.pk}/sla/pause/", {"reason": "waiting_on_guest"})
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert paused.json()["resolution"]["due_at"] is None
    twice = post(agent, f"cases/{case.pk}/sla/pause/")
    assert twice.status_code == 409 and _error(twice) == ("case", "not_running")
    bad = post(agent, f"cases/{case.pk}/sla/pause/", {"reason": "lunch"})
    assert bad.status_code == 400 and _error(bad)[0] == "reason"
    clock.set(datetime(2026, 3, 10, 14, 0, tzinfo=PARIS))
    resumed = post(agent, f"cases/{case.pk}/sla/resume/")
    assert resumed.status_code == 200
    assert resumed.json()["paused_minutes"] == 180
    # 480 minutes + the 3 hours waited, from Tuesday 10:00: Wednesday 12:00 in Paris.
    assert resumed.json()["resolution"]["due_at"] == "2026-03-11T11:00:00Z"
    assert post(agent, f"cases/{case.pk}/sla/resume/").status_code == 409

    # Another hotel's agent does not find the case; a reader of cases cannot pause.
    elsewhere = client_for(make_user("service_agent", hotels=[hotels["tokyo"]]), _tenant())
    assert elsewhere.get(f"{API}cases/{case.pk}/sla/").status_code == 404
    reader = client_for(make_user("reservations"), _tenant())
    assert reader.get(f"{API}cases/{case.pk}/sla/").status_code == 200
    assert post(reader, f"cases/{case.pk}/sla/pause/").status_code == 403
    assert agent.get(f"{API}cases/999999/sla/").status_code == 404
    # Cases count in the month they were created (today, whatever the module's clock says).
    day = case.created.date().isoformat()
    measures = agent.get(f"{API}service-measures/?start={day}&end={day}")
    assert measures.status_code == 200, measures.content
    [month] = measures.json()["results"]
    assert (month["cases"], month["first_response_met"], month["first_response_breached"]) == (
        1,
        0,
        0,
    )
    assert month["first_response_compliance"] is None  # still running: nothing decided
    missing = agent.get(f"{API}service-measures/?start=2026-03-01")
    assert missing.status_code == 400 and _error(missing)[0] == "end"
    assert elsewhere.get(f"{API}service-measures/?start={day}&end={day}").json() == {"results": []}


def test_surveys_invitations_answers_and_measures_through_the_api(hotels, clock, make_user):
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS))
    admin = tenant_client(_tenant())
    created = post(admin, "surveys/", SURVEY)
    assert created.status_code == 201, created.content
    survey = created.json()
    assert [q["kind"] for q in survey["questions"]] == ["nps", "csat"]
    chinese = admin.get(f"{API}surveys/{survey['id']}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["title"] == "您的住宿体验如何？"
    duplicate = post(admin, "surveys/", SURVEY)
    assert duplicate.status_code == 409 and _error(duplicate) == ("key", "duplicate")
    empty = post(admin, "surveys/", {**SURVEY, "key": "empty", "questions": []})
    assert empty.status_code == 400 and _error(empty)[0] == "questions"
    wrong = post(
        admin,
        "surveys/",
        {**SURVEY, "key": "wrong", "questions": [{"key": "a", "kind": "stars", "text": "?"}]},
    )
    assert wrong.status_code == 400 and _error(wrong)[0] == "questions.0.kind"

    guest = make_guest(surname="Lindqvist-Oyelaran")
    stay = make_reservation(property=hotels["paris"], guest=guest)
    agent = client_for(make_user("service_agent"), _tenant())
    invited = post(
        agent,
        f"surveys/{survey['id']}/invitations/",
        {"guest": guest.pk, "reservation": stay.pk, "channel": "email"},
    )
    assert invited.status_code == 201, invited.content
    link = invited.json()["link"]
    # No personal data in the link (a random token could hold two letters of a name by
    # chance, so the check uses a name no token will spell).
    assert "Lindqvist" not in link and "Oyelaran" not in link
    same = post(
        agent, f"surveys/{survey['id']}/invitations/", {"guest": guest.pk, "reservation": stay.pk}
    )
    # The same invitation (its signed key is the token's payload; the signature carries
    # the time it was made, so a second later it differs).
    assert same.status_code == 200 and same.json()["id"] == invited.json()["id"]
    payload = link.rstrip("/").rsplit("/", 1)[1].split(":")[0]
    assert same.json()["link"].rstrip("/").rsplit("/", 1)[1].split(":")[0] == payload
    other = make_guest()
    stranger = post(
        agent, f"surveys/{survey['id']}/invitations/", {"guest": other.pk, "reservation": stay.pk}
    )
    assert stranger.status_code == 400 and _error(stranger)[0] == "reservation"

    path = "/" + link.split("/", 3)[3]
    guest_phone = Client(HTTP_HOST="alpha.test")
    assert guest_phone.post(path, {"q-recommend": "3", "q-overall": "2"}).status_code == 200
    answers = agent.get(f"{API}survey-responses/?survey={survey['id']}")
    assert answers.status_code == 200
    [row] = answers.json()["results"]
    assert (row["nps"], row["csat"], row["property"], row["reservation"]) == (
        3,
        2,
        hotels["paris"].pk,
        stay.pk,
    )
    assert Case.objects.get(pk=row["case"]).guest_id == guest.pk
    assert agent.get(f"{API}survey-responses/{row['id']}/").json()["id"] == row["id"]
    # A Tokyo-only colleague does not see the Paris stay's answer.
    tokyo = client_for(make_user("service_agent", hotels=[hotels["tokyo"]]), _tenant())
    assert tokyo.get(f"{API}survey-responses/").json()["results"] == []
    assert tokyo.get(f"{API}survey-responses/{row['id']}/").status_code == 404

    measures = agent.get(f"{API}survey-measures/?start=2026-03-01&end=2026-03-31")
    assert measures.status_code == 200, measures.content
    [month] = measures.json()["results"]
    assert month["month"] == "2026-03" and month["property"] == hotels["paris"].pk
    assert (month["nps"], month["response_rate"], month["csat"]) == ("-100.0", "100.0", "0.0")
    missing = agent.get(f"{API}survey-measures/?end=2026-03-31")
    assert missing.status_code == 400 and _error(missing)[0] == "start"
    backwards = agent.get(f"{API}survey-measures/?start=2026-04-01&end=2026-03-31")
    assert backwards.status_code == 400 and _error(backwards)[0] == "end"
    assert agent.get(f"{API}survey-responses/?survey=abc").status_code == 400
    assert Response.objects.count() == 1


def test_api_keys_need_the_service_scope_and_the_module_switch_closes_the_doors(hotels):
    tenant = _tenant()
    reader = key_client(tenant, "service:read")
    assert reader.get(API + "surveys/").status_code == 200
    refused = post(reader, "surveys/", SURVEY)
    assert refused.status_code == 403
    other = key_client(tenant, "guests:read")
    assert other.get(API + "service-levels/").status_code == 403

    module_set_enabled(key="service", enabled=False, actor=SYSTEM)
    admin = tenant_client(tenant)
    closed = admin.get(API + "surveys/")
    assert closed.status_code == 403 and _error(closed)[1] == "module_disabled"
    assert admin.get(API + "service-levels/").status_code == 403


def test_replies_and_the_guests_answer_through_the_api(hotels, clock, make_user):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    guest = make_guest(surname="Wang", emails=["wang@example.cn"], language="zh-hans")
    case = case_create(
        subject="Towels",
        category="room",
        priority="high",
        guest=guest,
        property=hotels["paris"],
        actor=SYSTEM,
    )
    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    sent = post(agent, f"cases/{case.pk}/messages/", {"body": "马上送到。"})
    assert sent.status_code == 201, sent.content
    assert (sent.json()["direction"], sent.json()["language"]) == ("out", "zh-hans")
    assert sent.json()["subject"] == "关于您的请求：Towels"
    blank = post(agent, f"cases/{case.pk}/messages/", {"body": ""})
    assert blank.status_code == 400 and _error(blank)[0] == "body"

    from crm.service.services.messages import reply_address

    relay = key_client(_tenant(), "service:write")
    landed = post(
        relay,
        "cases/inbound-email/",
        {"to": [reply_address(case)], "sender": "wang@example.cn", "text": "谢谢"},
    )
    assert landed.status_code == 201, landed.content
    assert landed.json()["case"] == case.pk
    forged = post(
        relay,
        "cases/inbound-email/",
        {"to": [f"reply+c{case.pk}.0000000000aaaaaaaaaa@alpha.test"], "sender": "x@y.z"},
    )
    assert forged.status_code == 404 and _error(forged)[0] == "to"
    listed = agent.get(f"{API}cases/{case.pk}/messages/")
    assert [m["direction"] for m in listed.json()["results"]] == ["out", "in"]
    reader = key_client(_tenant(), "service:read")
    assert post(reader, "cases/inbound-email/", {"to": [], "sender": "a"}).status_code == 403
