"""The service desk's staff screens: the queue with each case's timers (breached
first, hotel scope, filters, bad filters a 400) and the satisfaction figures, in
English and Chinese."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.service.services.sla import case_sla_pause
from crm.service.services.surveys import invitation_create, survey_answer, survey_create
from crm.services.cases import case_create
from tests.access.conftest import client_for
from tests.crm.factories import make_guest, make_reservation
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db


def _tenant():
    from tenants.models import Tenant

    return Tenant.objects.get(slug="alpha")


def _case(subject, hotel):
    return case_create(
        subject=subject, category="room", priority="high", property=hotel, actor=SYSTEM
    )


def test_the_queue_puts_breached_cases_first_and_shows_only_the_agents_hotels(
    hotels, clock, make_user
):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    late = _case("Broken kettle", hotels["paris"])
    clock.set(datetime(2026, 3, 10, 10, 30, tzinfo=PARIS))
    fresh = _case("Extra pillow", hotels["paris"])
    waiting = _case("Lost umbrella", hotels["paris"])
    case_sla_pause(case=waiting, actor=SYSTEM)
    _case("Noisy neighbour", hotels["tokyo"])
    clock.set(datetime(2026, 3, 10, 11, 15, tzinfo=PARIS))

    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    page = agent.get("/service/queue/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Noisy neighbour" not in text
    assert text.index("Broken kettle") < text.index("Extra pillow") < text.index("Lost umbrella")
    assert 'data-state="breached"' in text and "Waiting on the guest" in text

    breached = agent.get("/service/queue/?state=breached").content.decode()
    assert "Broken kettle" in breached and "Extra pillow" not in breached
    paused = agent.get("/service/queue/?state=paused").content.decode()
    assert "Lost umbrella" in paused and "Broken kettle" not in paused
    assert fresh.pk != late.pk
    bad = agent.get("/service/queue/?state=overdue&property=x")
    assert bad.status_code == 400
    assert "Pick a hotel from the list." in bad.content.decode()

    chinese = agent.get("/service/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "首次响应截止" in chinese and "已超时" in chinese

    sales = client_for(make_user("sales"), _tenant())  # views cases, every hotel
    assert "Noisy neighbour" in sales.get("/service/queue/").content.decode()
    marketing = client_for(make_user("marketing"), _tenant())  # no right on cases
    assert marketing.get("/service/queue/").status_code == 403


def test_the_satisfaction_screen_shows_the_months_nps(hotels, clock, make_user):
    survey = survey_create(
        key="post-stay",
        title="Stay",
        questions=[{"key": "nps", "kind": "nps", "text": "Recommend?"}],
        case_at_nps=None,
        actor=SYSTEM,
    )
    clock.set(datetime(2026, 5, 4, 12, 0, tzinfo=UTC))
    for score in (10, 9, 3, 8):
        guest = make_guest()
        stay = make_reservation(property=hotels["tokyo"], guest=guest)
        invitation = invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
        survey_answer(invitation=invitation, answers={"nps": score})
    _case("Towels missing", hotels["tokyo"])
    manager = client_for(make_user("general_manager"), _tenant())
    page = manager.get("/service/satisfaction/?start=2026-01-01&end=2026-12-31")
    assert page.status_code == 200
    text = page.content.decode()
    levels = text[text.index('id="levels-h"') :]
    assert hotels["tokyo"].name in levels and "No case was opened" not in levels
    # (2 promoters - 1 detractor) / 4 answers = 25.0
    assert 'data-nps="25.0"' in text and "2026-05" in text and hotels["tokyo"].name in text
    chinese = manager.get(
        "/service/satisfaction/?start=2026-01-01&end=2026-12-31", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "回复率" in chinese and "工单与服务水平" in chinese  # alpha offers en and zh-hans
    assert manager.get("/service/satisfaction/?start=soon").status_code == 400
    assert manager.get("/service/satisfaction/?start=2026-06-01&end=2026-01-01").status_code == 400
    sales = client_for(make_user("sales"), _tenant())
    assert sales.get("/service/satisfaction/").status_code == 403


def test_the_queue_pages_through_cases_in_order_without_counting_them(hotels, make_user, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    for n in range(51):
        _case(f"Queue case {n:02d}", hotels["paris"])
    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    first = agent.get("/service/queue/").content.decode()
    assert first.count("Queue case ") == 50 and "page=2" in first and "page=0" not in first
    second = agent.get("/service/queue/?page=2").content.decode()
    assert second.count("Queue case ") == 1 and "Queue case 50" in second
    assert "page=3" not in second and "page=1" in second
    nonsense = agent.get("/service/queue/?page=-4x")
    assert nonsense.status_code == 200 and nonsense.content.decode().count("Queue case ") == 50
