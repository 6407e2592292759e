"""The case page: an agent opens a case from the desk, sees the guest and the timers,
assigns it, replies, notes, asks for compensation; a manager approves it; in Chinese
too. Bad input comes back as a message, another hotel's case is a 404."""

from __future__ import annotations

from datetime import datetime

import pytest

from crm.models import Activity, Case
from crm.service.models import CaseMessage, Compensation
from crm.services.cases import case_create
from tests.access.conftest import client_for
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.conftest import PARIS
from tests.service.test_api import _tenant

pytestmark = pytest.mark.django_db


def _messages(response) -> str:
    return response.content.decode()


def test_an_agent_works_a_complaint_from_the_case_page(hotels, make_user, clock, settings):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    guest = make_guest(given_name="Sofia", surname="Rossi", emails=["sofia@example.it"])
    agent_user = make_user("service_agent", hotels=[hotels["paris"]])
    agent = client_for(agent_user, _tenant())
    opened = agent.post(
        "/service/cases/new/",
        {"subject": "Shower is cold", "kind": "complaint", "category": "room",
         "priority": "high", "property": hotels["paris"].pk, "guest": guest.pk},
    )  # fmt: skip
    assert opened.status_code == 302, opened.content[:400]
    case = Case.objects.get(subject="Shower is cold")
    assert opened["Location"] == f"/service/cases/{case.pk}/"
    page = agent.get(opened["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sofia" in text and "sofia@example.it" in text and 'data-state="running"' in text
    assert "Shower is cold" in agent.get("/service/queue/").content.decode()

    act = f"/service/cases/{case.pk}/action/"
    assert agent.post(act, {"action": "assign", "owner": agent_user.pk}).status_code == 302
    assert (
        agent.post(act, {"action": "reply", "body": "We are sending someone."}).status_code == 302
    )
    assert agent.post(act, {"action": "note", "body": "Boiler checked"}).status_code == 302
    agent.post(act, {"action": "compensate", "kind": "voucher", "amount": "25", "note": "Sorry"})
    after = agent.get(f"/service/cases/{case.pk}/", follow=True).content.decode()
    case.refresh_from_db()
    assert case.owner_id == agent_user.pk
    assert CaseMessage.objects.get(case=case).direction == "out"
    assert Activity.objects.get(object_api_name="case", record_id=str(case.pk)).body == (
        "Boiler checked"
    )
    assert "We are sending someone." in after and "Boiler checked" in after
    comp = Compensation.objects.get(case=case)
    assert comp.status == "requested" and "€25.00" in after
    # The agent cannot decide; nothing changes.
    assert agent.post(act, {"action": "approve", "compensation": comp.pk}).status_code == 403
    comp.refresh_from_db()
    assert comp.status == "requested"

    # Bad input is a message on the page, not an error page.
    bad = agent.post(act, {"action": "compensate", "kind": "credit", "amount": "NaN"}, follow=True)
    assert bad.status_code == 200 and "amount" in bad.content.decode().lower()
    nul = agent.post(act, {"action": "note", "body": "a\x00b"}, follow=True)
    assert "NUL" in nul.content.decode()
    unknown = agent.post(act, {"action": "explode"}, follow=True)
    assert "not something a case can do" in unknown.content.decode()

    manager = client_for(make_user("general_manager"), _tenant())
    manager.post("/i18n/language/", {"language": "zh-hans"})
    assert manager.post(act, {"action": "approve", "compensation": comp.pk}).status_code == 302
    comp.refresh_from_db()
    assert comp.status == "approved"
    resolved = manager.post(act, {"action": "update", "status": "resolved"})
    assert resolved.status_code == 302
    chinese = manager.get(f"/service/cases/{case.pk}/").content.decode()
    assert "已解决" in chinese and "处理工单" in chinese and "已批准" in chinese

    tokyo_agent = client_for(make_user("service_agent", hotels=[hotels["tokyo"]]), _tenant())
    assert tokyo_agent.get(f"/service/cases/{case.pk}/").status_code == 404
    assert tokyo_agent.post(act, {"action": "note", "body": "x"}).status_code == 404
    assert case_create(subject="x", actor=SYSTEM).pk
