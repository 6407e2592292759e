"""The case status flow (new, open, in progress, escalated, waiting on guest, resolved,
closed, reopened): every allowed move passes, every other one is a 409 naming
``status``; the guest's e-mail answer moves a waiting case back to open and reopens a
resolved or closed one; the resolution clock stops while the case waits on the guest,
so the sweep leaves it alone until it runs again and passes its (moved) due time."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError

from crm.models import Case
from crm.models.cases import CASE_TRANSITIONS
from crm.service.models import CaseMessage, CaseSla
from crm.service.selectors import case_sla
from crm.service.services.desk import case_merge
from crm.service.services.messages import case_reply_receive, reply_address
from crm.service.services.sla import sla_breaches_detect
from crm.services.cases import case_create, case_update
from tenants.errors import Conflict
from tests.access.conftest import client_for
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.conftest import PARIS
from tests.service.test_api import _error, _tenant, patch, post

pytestmark = pytest.mark.django_db

S = Case.Status
# How a case reaches each status from its start.
PATHS: dict[str, list[str]] = {
    S.NEW: [],
    S.OPEN: [],
    S.IN_PROGRESS: [S.IN_PROGRESS],
    S.ESCALATED: [S.ESCALATED],
    S.WAITING_ON_GUEST: [S.WAITING_ON_GUEST],
    S.RESOLVED: [S.RESOLVED],
    S.CLOSED: [S.CLOSED],
    S.REOPENED: [S.RESOLVED, S.REOPENED],
}


def _case(hotel, *, status: str = S.OPEN, guest=None) -> Case:
    case = case_create(
        subject="Noisy neighbours",
        kind=Case.Kind.COMPLAINT,
        category="room",
        priority="high",
        status=S.NEW if status == S.NEW else S.OPEN,
        property=hotel,
        guest=guest,
        actor=SYSTEM,
    )
    for step in PATHS[status]:
        case = case_update(case=case, status=step, actor=SYSTEM)
    assert case.status == status
    return case


def test_the_flow_is_the_one_the_desk_works_by():
    assert CASE_TRANSITIONS[S.RESOLVED] == (S.CLOSED, S.REOPENED)
    assert CASE_TRANSITIONS[S.CLOSED] == (S.REOPENED,)
    # Nothing goes back to new, and only a resolved or closed case is reopened.
    assert all(S.NEW not in moves for moves in CASE_TRANSITIONS.values())
    assert [s for s, moves in CASE_TRANSITIONS.items() if S.REOPENED in moves] == [
        S.RESOLVED,
        S.CLOSED,
    ]
    assert set(CASE_TRANSITIONS) == set(S.values)


@pytest.mark.parametrize("start", list(PATHS))
def test_each_allowed_move_passes_and_every_other_is_refused_naming_status(hotels, clock, start):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    for target in S.values:
        case = _case(hotels["paris"], status=start)
        if target == start or target in CASE_TRANSITIONS[start]:
            moved = case_update(case=case, status=target, actor=SYSTEM)
            assert Case.objects.get(pk=moved.pk).status == target
        else:
            with pytest.raises(Conflict) as refused:
                case_update(case=case, status=target, actor=SYSTEM)
            assert (refused.value.field, refused.value.code) == ("status", "transition_not_allowed")
            assert Case.objects.get(pk=case.pk).status == start


def test_a_case_starts_new_or_open_and_nothing_else(hotels):
    assert _case(hotels["paris"], status=S.NEW).status == "new"
    with pytest.raises(ValidationError) as refused:
        case_create(subject="Late", status=S.RESOLVED, property=hotels["paris"], actor=SYSTEM)
    assert "status" in refused.value.message_dict


def test_the_api_refuses_a_move_with_a_409_naming_status(hotels, make_user):
    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    body = {"subject": "Broken kettle", "status": "new", "property": hotels["paris"].pk}
    made = post(agent, "cases/", body)
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "new"
    pk = made.json()["id"]
    assert _error(post(agent, "cases/", {"subject": "x", "status": "closed"})) == (
        "status",
        "invalid",
    )
    resolved = patch(agent, f"cases/{pk}/", {"status": "resolved"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    refused = patch(agent, f"cases/{pk}/", {"status": "open"})
    assert refused.status_code == 409
    assert _error(refused) == ("status", "transition_not_allowed")
    reopened = patch(agent, f"cases/{pk}/", {"status": "reopened"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"


def test_the_case_page_offers_only_the_allowed_moves(hotels, make_user, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"], status=S.RESOLVED)
    agent = client_for(make_user("service_agent", hotels=[hotels["paris"]]), _tenant())
    page = agent.get(f"/service/cases/{case.pk}/").content.decode()
    select = page.split('id="c-status"')[1].split("</select>")[0]
    assert [v for v in S.values if f'value="{v}"' in select] == ["resolved", "closed", "reopened"]
    act = f"/service/cases/{case.pk}/action/"
    refused = agent.post(act, {"action": "update", "status": "open"}, follow=True)
    assert "cannot go from resolved to open" in refused.content.decode()
    assert Case.objects.get(pk=case.pk).status == "resolved"
    assert agent.post(act, {"action": "update", "status": "reopened"}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == "reopened"


def test_the_case_page_speaks_the_new_statuses_in_chinese(hotels, make_user, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"], status=S.WAITING_ON_GUEST)
    user = make_user("service_agent", hotels=[hotels["paris"]])
    agent = client_for(user, _tenant())
    page = agent.get(f"/service/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and "等待客人回复" in text


# --- the guest answers by e-mail --------------------------------------------------------


def _answer(case: Case, text: str = "Still noisy.") -> CaseMessage | None:
    return case_reply_receive(
        to=[reply_address(case)], sender="ana@example.pt", subject="Re: your case", text=text
    )


def test_the_guests_answer_moves_a_waiting_case_back_to_open(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    guest = make_guest(given_name="Ana", surname="Silva", emails=["ana@example.pt"])
    case = _case(hotels["paris"], status=S.WAITING_ON_GUEST, guest=guest)
    assert CaseSla.objects.get(case=case).paused_since == datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=PARIS))
    assert _answer(case) is not None
    assert Case.objects.get(pk=case.pk).status == "open"
    sla = CaseSla.objects.get(case=case)
    assert (sla.paused_since, sla.paused_seconds, sla.reopened_count) == (None, 7200, 0)


@pytest.mark.parametrize("done", [S.RESOLVED, S.CLOSED])
def test_the_guests_answer_reopens_a_resolved_or_closed_case(hotels, clock, done):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"], status=done)
    clock.set(datetime(2026, 3, 11, 9, 0, tzinfo=PARIS))
    assert _answer(case, "It started again tonight.") is not None
    assert Case.objects.get(pk=case.pk).status == "reopened"
    sla = CaseSla.objects.get(case=case)
    assert (sla.resolved_at, sla.reopened_count) == (None, 1)
    # A second answer leaves the reopened case as it is and counts nothing more.
    assert _answer(case, "And again.") is not None
    assert Case.objects.get(pk=case.pk).status == "reopened"
    assert CaseSla.objects.get(case=case).reopened_count == 1


def test_an_answer_to_a_merged_duplicate_lands_on_the_case_it_went_into(hotels, clock):
    guest = make_guest(given_name="Ana", surname="Silva", emails=["ana@example.pt"])
    kept = _case(hotels["paris"], status=S.WAITING_ON_GUEST, guest=guest)
    duplicate = _case(hotels["paris"], guest=guest)
    case_merge(duplicate=duplicate, primary=kept, actor=SYSTEM)
    answer = _answer(duplicate)
    assert answer is not None and answer.case_id == kept.pk
    assert Case.objects.get(pk=kept.pk).status == "open"
    assert Case.objects.get(pk=duplicate.pk).status == "closed"


# --- the clock stops while the case waits on the guest ----------------------------------


def test_waiting_on_the_guest_stops_the_resolution_clock_and_the_sweep(hotels, clock):
    # Paris, weekdays 09:00-18:00; high room cases: 2 h to respond, 8 h to resolve.
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))  # Tuesday
    guest = make_guest(given_name="Ana", surname="Silva", emails=["ana@example.pt"])
    case = _case(hotels["paris"], guest=guest)
    assert CaseSla.objects.get(case=case).resolution_due == datetime(
        2026, 3, 10, 17, 0, tzinfo=PARIS
    )
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS))
    case = case_update(case=case, status=S.WAITING_ON_GUEST, actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    # Asking the guest is the first response; the clock stops and nothing is due.
    assert sla.first_response_at == datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
    assert sla.paused_since == datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
    assert (sla.pause_reason, sla.resolution_due, sla.next_due) == ("waiting_on_guest", None, None)
    assert case_sla(actor=SYSTEM, case=case)["resolution"]["state"] == "paused"

    # Long past the first due time (Tuesday 17:00), the sweep leaves the waiting case.
    clock.set(datetime(2026, 3, 11, 11, 0, tzinfo=PARIS))
    assert sla_breaches_detect() == 0
    assert CaseSla.objects.get(case=case).resolution_breached_at is None

    # The guest answers on Wednesday 11:00: ten business hours waited (Tuesday 10-18,
    # Wednesday 9-11) move the due time; 7 of the 8 hours are left: Wednesday 18:00.
    assert _answer(case) is not None
    sla = CaseSla.objects.get(case=case)
    assert Case.objects.get(pk=case.pk).status == "open"
    assert (sla.paused_since, sla.paused_seconds) == (None, 10 * 3600)
    assert sla.resolution_due == datetime(2026, 3, 11, 18, 0, tzinfo=PARIS)
    assert sla.next_due == sla.resolution_due

    clock.set(datetime(2026, 3, 11, 17, 59, tzinfo=PARIS))
    assert sla_breaches_detect() == 0
    clock.set(datetime(2026, 3, 11, 18, 1, tzinfo=PARIS))
    assert sla_breaches_detect() == 1
    sla = CaseSla.objects.get(case=case)
    assert sla.resolution_breached_at == datetime(2026, 3, 11, 18, 0, tzinfo=PARIS)
    assert case_sla(actor=SYSTEM, case=case)["resolution"]["state"] == "breached"


def test_resolving_a_waiting_case_counts_only_the_time_before_it_waited(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=PARIS))
    case = case_update(case=case, status=S.WAITING_ON_GUEST, actor=SYSTEM)
    # Resolved on Thursday: without the pause it would be two days late.
    clock.set(datetime(2026, 3, 12, 10, 0, tzinfo=PARIS))
    case = case_update(case=case, status=S.RESOLVED, actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.resolution_breached_at is None and sla.paused_since is None
    assert case_sla(actor=SYSTEM, case=case)["resolution"]["state"] == "met"


def test_a_case_already_late_when_it_starts_waiting_is_breached_then(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    case = case_update(case=case, status=S.IN_PROGRESS, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 17, 30, tzinfo=PARIS))
    case_update(case=case, status=S.WAITING_ON_GUEST, actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.resolution_breached_at == datetime(2026, 3, 10, 17, 0, tzinfo=PARIS)
    assert sla.paused_since is not None


def test_other_edits_of_a_waiting_case_keep_its_clock_stopped(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"], status=S.NEW)
    # Opening a new case is not an answer to the guest.
    case = case_update(case=case, status=S.OPEN, actor=SYSTEM)
    assert CaseSla.objects.get(case=case).first_response_at is None
    case = case_update(case=case, status=S.WAITING_ON_GUEST, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=PARIS))
    case_update(case=case, priority="urgent", subject="Very noisy neighbours", actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.paused_since == datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    assert (sla.paused_seconds, sla.next_due) == (0, None)


def test_the_resume_door_leaves_a_clock_the_status_stopped(hotels, clock):
    from crm.service.services.sla import case_sla_resume

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"], status=S.WAITING_ON_GUEST)
    with pytest.raises(Conflict) as refused:
        case_sla_resume(case=case, actor=SYSTEM)
    assert (refused.value.field, refused.value.code) == ("status", "status_waiting")
    assert CaseSla.objects.get(case=case).paused_since is not None


def test_the_queue_holds_new_waiting_and_reopened_cases_but_not_done_ones(hotels, clock):
    from crm.service.selectors import case_queue

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    made = {status: _case(hotels["paris"], status=status).pk for status in PATHS}
    queued = set(case_queue(actor=SYSTEM).values_list("pk", flat=True))
    assert queued == {made[s] for s in PATHS if s not in (S.RESOLVED, S.CLOSED)}
    paused = set(case_queue(actor=SYSTEM, state="paused").values_list("pk", flat=True))
    assert paused == {made[S.WAITING_ON_GUEST]}
