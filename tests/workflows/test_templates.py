"""The shipped hotel templates, imported into a tenant and driven by their triggers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Activity, Case
from crm.services.cases import case_create
from crm.services.guests import guest_consent_record, guest_statistics_refresh
from crm.services.reservations import reservation_status_change
from metadata.models import Workflow
from metadata.services.workflows import workflow_template_import, workflow_template_names
from metadata.workflows.scheduler import workflows_schedule
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM
from tests.workflows.conftest import outbox, runs_of, staff

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def imported(name: str) -> Workflow:
    [step] = workflow_template_import(name=name, dry_run=False, enabled=True, actor=SYSTEM)["steps"]
    return Workflow.objects.get(key=step["key"])


def test_every_template_imports_idempotently_and_starts_switched_off(alpha):
    names = workflow_template_names()
    assert len(names) == 6
    for name in names:
        assert (
            workflow_template_import(name=name, dry_run=True, actor=SYSTEM)["steps"][0]["action"]
            == "create"
        )
        workflow_template_import(name=name, dry_run=False, actor=SYSTEM)
        assert (
            workflow_template_import(name=name, dry_run=False, actor=SYSTEM)["steps"][0]["action"]
            == "unchanged"
        )
    assert Workflow.objects.filter(enabled=False).count() == 6
    assert set(Workflow.objects.values_list("template", flat=True)) == set(names)


def test_import_command(alpha, tenant_a):
    out = StringIO()
    call_command("workflow_template_import", tenant="alpha", template="all", apply=True, stdout=out)
    assert out.getvalue().count('"action": "create"') == 6
    with pytest.raises(CommandError, match="no workflow template"):
        call_command("workflow_template_import", tenant="alpha", template="spa", stdout=out)


def test_pre_arrival_three_days_before(alpha, commit):
    workflow = imported("pre_arrival")
    guest = make_guest(language="zh-hant", emails=["wen@example.com"], given_name="文")
    reservation = make_reservation(property=make_property(), guest=guest, arrival=date(2026, 7, 4))
    with commit():
        workflows_schedule(now=datetime(2026, 7, 1, 10, 1, tzinfo=PARIS))
    [run] = runs_of(workflow)
    assert run.record_id == str(reservation.pk) and run.status == "succeeded"
    [message] = outbox()
    assert message.language == "zh-hant" and "入住日期" in message.subject


def test_post_stay_survey_one_day_after_departure_when_checked_out(alpha, commit):
    workflow = imported("post_stay_survey")
    prop = make_property()
    stayed = make_reservation(
        property=prop,
        guest=make_guest(emails=["a@example.com"]),
        arrival=date(2026, 7, 1),
        nights=2,
    )
    reservation_status_change(reservation=stayed, status="in_house", actor=SYSTEM)
    reservation_status_change(reservation=stayed, status="checked_out", actor=SYSTEM)
    no_show = make_reservation(
        property=prop,
        guest=make_guest(emails=["b@example.com"]),
        arrival=date(2026, 7, 1),
        nights=2,
    )
    with commit():
        workflows_schedule(now=datetime(2026, 7, 4, 10, 0, tzinfo=PARIS))
    # The scan only picks records that meet the conditions: the booking never stayed.
    assert {r.record_id: r.status for r in runs_of(workflow)} == {str(stayed.pk): "succeeded"}
    assert no_show.pk != stayed.pk
    [message] = outbox()
    assert message.recipient == "a@example.com" and message.subject.startswith("How was your stay")


def test_vip_arrival_today_makes_a_front_office_task(alpha, commit):
    desk = staff("desk@alpha.test", "front_office")
    workflow = imported("vip_arrival")
    prop = make_property()
    vip = make_reservation(
        property=prop,
        guest=make_guest(vip_level=2, given_name="Ana", surname="Vip"),
        arrival=date(2026, 8, 1),
    )
    make_reservation(property=prop, guest=make_guest(vip_level=0), arrival=date(2026, 8, 1))
    with commit():
        workflows_schedule(now=datetime(2026, 8, 1, 7, 0, tzinfo=PARIS))
    assert [(r.record_id, r.status) for r in runs_of(workflow)] == [(str(vip.pk), "succeeded")]
    [task] = Activity.objects.filter(kind="task")
    assert (task.subject, task.assignee, task.record_id) == (
        "VIP arrival today: Ana Vip (VIP 2)",
        desk,
        str(vip.pk),
    )


def test_birthday_greeting_needs_marketing_consent(alpha, commit):
    workflow = imported("birthday_greeting")
    fan = make_guest(birth_date=date(1990, 9, 9), emails=["fan@example.com"], given_name="Fan")
    guest_consent_record(
        guest=fan, channel="email", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    make_guest(birth_date=date(1985, 9, 9), emails=["quiet@example.com"])
    with commit():
        workflows_schedule(now=datetime(2026, 9, 9, 9, 0, tzinfo=PARIS))
    assert len(runs_of(workflow)) == 2
    [message] = outbox()
    assert (message.recipient, message.subject) == ("fan@example.com", "Happy birthday, Fan!")


def test_win_back_300_days_after_the_last_stay(alpha, commit):
    workflow = imported("win_back")
    guest = make_guest(emails=["back@example.com"])
    guest_consent_record(
        guest=guest, channel="email", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    stay = make_reservation(property=make_property(), guest=guest, arrival=date(2025, 1, 10))
    reservation_status_change(reservation=stay, status="in_house", actor=SYSTEM)
    guest_statistics_refresh(guest_ids=[guest.pk])
    guest.refresh_from_db()
    assert guest.last_stay == date(2025, 1, 10)
    due = guest.last_stay + timedelta(days=300)
    with commit():
        workflows_schedule(now=datetime(due.year, due.month, due.day, 9, 59, tzinfo=PARIS))
        assert runs_of(workflow) == []
        workflows_schedule(now=datetime(due.year, due.month, due.day, 10, 0, tzinfo=PARIS))
    [message] = outbox()
    assert message.recipient == "back@example.com" and "We miss you" in message.subject


def test_complaint_past_deadline_is_escalated_to_a_manager(alpha, commit):
    gm = staff("gm@alpha.test", "general_manager")
    workflow = imported("complaint_escalation")
    deadline = datetime(2026, 5, 5, 18, 0, tzinfo=PARIS)
    late = case_create(
        subject="Cold shower",
        kind="complaint",
        deadline=deadline,
        guest=make_guest(given_name="Ivo", surname="Late"),
        actor=SYSTEM,
    )
    solved = case_create(subject="Noise", kind="complaint", deadline=deadline, actor=SYSTEM)
    from crm.services.cases import case_update

    case_update(case=solved, status="resolved", actor=SYSTEM)
    request = case_create(subject="Extra pillow", kind="request", deadline=deadline, actor=SYSTEM)
    with commit():
        workflows_schedule(now=deadline + timedelta(minutes=3))
    assert {r.record_id: r.status for r in runs_of(workflow)} == {str(late.pk): "succeeded"}
    assert Case.objects.get(pk=request.pk).status == "open"
    late.refresh_from_db()
    assert (late.status, late.priority, late.owner) == ("escalated", "urgent", gm)
    assert late.escalated_at is not None
    [task] = Activity.objects.filter(kind="task")
    assert task.assignee == gm and task.subject == "Escalated complaint: Cold shower"
    assert Case.objects.get(pk=solved.pk).status == "resolved"
