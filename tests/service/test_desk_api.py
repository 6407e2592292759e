"""The case desk through the API: assign, merge, compensation asked for and decided,
assignment rules kept by managers; bad bodies are 400s naming the field; a narrow key
and an agent of another hotel are refused."""

from __future__ import annotations

import pytest

from crm.service.models import Compensation
from crm.services.cases import case_create
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.test_api import _error, _tenant, key_client, patch, post

pytestmark = pytest.mark.django_db


def test_an_agent_takes_merges_and_compensates_and_a_manager_decides(hotels, make_user):
    guest = make_guest(given_name="Ivo", surname="Novak")
    first = case_create(subject="Dirty room", property=hotels["paris"], guest=guest, actor=SYSTEM)
    again = case_create(subject="Room dirty", property=hotels["paris"], guest=guest, actor=SYSTEM)
    ana_user = make_user("service_agent", hotels=[hotels["paris"]])
    ana = client_for(ana_user, _tenant())
    taken = post(ana, f"cases/{first.pk}/assign/", {"owner": ana_user.pk})
    assert taken.status_code == 200 and taken.json()["owner"] == ana_user.pk
    assert _error(post(ana, f"cases/{first.pk}/assign/", {"owner": "me"})) == ("owner", "invalid")
    merged = post(ana, f"cases/{again.pk}/merge/", {"into": first.pk})
    assert merged.status_code == 200 and merged.json()["id"] == first.pk
    assert post(ana, f"cases/{again.pk}/merge/", {"into": first.pk}).status_code == 409

    asked = post(ana, f"cases/{first.pk}/compensations/", {"kind": "credit", "amount": "80.555"})
    assert asked.status_code == 201, asked.content
    assert (asked.json()["amount"], asked.json()["currency"]) == ("80.56", "EUR")
    bad = post(ana, f"cases/{first.pk}/compensations/", {"kind": "credit", "amount": "lots"})
    assert _error(bad)[0] == "amount"
    nested = post(ana, f"cases/{first.pk}/compensations/", {"kind": {"a": [1]}, "amount": "1"})
    assert _error(nested)[0] == "kind"
    # The agent cannot approve; the manager can, once.
    comp = asked.json()["id"]
    assert post(ana, f"compensations/{comp}/decide/", {"approve": True}).status_code == 403
    gm = client_for(make_user("general_manager"), _tenant())
    decided = post(gm, f"compensations/{comp}/decide/", {"approve": True, "note": "ok"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert post(gm, f"compensations/{comp}/decide/", {"approve": False}).status_code == 409
    listed = ana.get(f"/api/v1/cases/{first.pk}/compensations/").json()["results"]
    assert [row["status"] for row in listed] == ["approved"]

    # An agent of another hotel finds neither the case nor its compensation.
    kenji = client_for(make_user("service_agent", hotels=[hotels["tokyo"]]), _tenant())
    assert kenji.get(f"/api/v1/cases/{first.pk}/compensations/").status_code == 404
    assert post(kenji, f"cases/{first.pk}/assign/", {"owner": None}).status_code == 404
    assert Compensation.objects.count() == 1


def test_assignment_rules_are_kept_by_managers(hotels, make_user):
    agent = make_user("service_agent", hotels=[hotels["paris"]])
    admin = tenant_client(_tenant())
    made = post(
        admin,
        "case-assignment-rules/",
        {"name": "Paris", "property": hotels["paris"].pk, "agents": [agent.pk]},
    )
    assert made.status_code == 201, made.content
    rule = made.json()["id"]
    assert made.json()["category"] == "" and made.json()["active"] is True
    assert _error(post(admin, "case-assignment-rules/", {"name": "x", "agents": []}))[0] == "agents"
    assert _error(post(admin, "case-assignment-rules/", {"name": "x", "agents": [10**12]}))[0] == (
        "agents"
    )
    moved = patch(admin, f"case-assignment-rules/{rule}/", {"category": "room"})
    assert moved.status_code == 200 and moved.json()["category"] == "room"
    case = case_create(subject="Leak", category="room", property=hotels["paris"], actor=SYSTEM)
    assert case.owner_id == agent.pk
    agent_client = client_for(agent, _tenant())
    assert agent_client.get("/api/v1/case-assignment-rules/").status_code == 200
    assert patch(agent_client, f"case-assignment-rules/{rule}/", {"active": False}).status_code == (
        403
    )
    reader = key_client(_tenant(), "service:read")
    assert post(
        reader, "case-assignment-rules/", {"name": "x", "agents": [agent.pk]}
    ).status_code == (403)
    assert admin.delete(f"/api/v1/case-assignment-rules/{rule}/").status_code == 204
    assert admin.get(f"/api/v1/case-assignment-rules/{rule}/").status_code == 404
