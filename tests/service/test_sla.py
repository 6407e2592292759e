"""Service-level timers in business hours of each hotel's calendar and time zone,
across weekends and holidays, paused while waiting on the guest; breaches recorded and
announced once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.models import Case, RecordChange
from crm.service.businesstime import Hours, business_add, business_seconds
from crm.service.events import sla_breached_subscribe
from crm.service.models import CaseSla
from crm.service.selectors import case_sla
from crm.service.services.sla import case_sla_pause, case_sla_resume, sla_breaches_detect
from crm.services.cases import case_create, case_update
from tenants.access.principal import Principal
from tenants.errors import Conflict
from tests.principals import SYSTEM
from tests.service.conftest import PARIS, TOKYO

pytestmark = pytest.mark.django_db


def _case(hotel, *, priority="high", category="room") -> Case:
    return case_create(
        subject="Air conditioning broken",
        kind=Case.Kind.COMPLAINT,
        category=category,
        priority=priority,
        property=hotel,
        actor=SYSTEM,
    )


def test_paris_case_on_a_friday_afternoon_is_due_after_the_weekend_and_the_holiday(hotels, clock):
    # Friday 6 March 2026, 16:30 in Paris; Monday 9 March is the hotel's holiday.
    clock.set(datetime(2026, 3, 6, 16, 30, tzinfo=PARIS))
    case = _case(hotels["paris"])
    sla = CaseSla.objects.get(case=case)
    assert (sla.first_response_minutes, sla.resolution_minutes) == (120, 480)
    # 90 minutes on Friday, the rest from Tuesday 09:00.
    assert sla.first_response_due == datetime(2026, 3, 10, 9, 30, tzinfo=PARIS)
    assert sla.resolution_due == datetime(2026, 3, 10, 15, 30, tzinfo=PARIS)
    assert sla.first_response_due.astimezone(UTC) == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


def test_tokyo_case_on_a_thursday_evening_skips_the_equinox_holiday_and_the_weekend(hotels, clock):
    # Thursday 19 March 2026, 18:00 in Tokyo; Friday 20 is a holiday, then the weekend.
    clock.set(datetime(2026, 3, 19, 18, 0, tzinfo=TOKYO))
    case = _case(hotels["tokyo"])
    sla = CaseSla.objects.get(case=case)
    assert sla.first_response_due == datetime(2026, 3, 23, 11, 0, tzinfo=TOKYO)
    assert sla.resolution_due == datetime(2026, 3, 23, 17, 0, tzinfo=TOKYO)
    # The same instant in UTC is another day's morning.
    assert sla.resolution_due.astimezone(UTC) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_a_case_without_a_target_of_its_own_takes_the_any_category_one(hotels, clock):
    from crm.service.services.levels import service_level_create

    service_level_create(
        priority="normal", first_response_minutes=60, resolution_minutes=600, actor=SYSTEM
    )
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    billing = _case(hotels["paris"], category="billing", priority="normal")
    untimed = _case(hotels["paris"], category="billing", priority="low")
    assert CaseSla.objects.get(case=billing).first_response_due == datetime(
        2026, 3, 10, 10, 0, tzinfo=PARIS
    )
    state = case_sla(actor=SYSTEM, case=untimed)
    assert state["first_response"]["state"] == "none"
    assert state["resolution"]["due_at"] is None


def test_waiting_on_the_guest_stops_the_clock_and_resuming_moves_the_due_times(hotels, clock):
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS))  # Tuesday
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=PARIS))
    sla = case_sla_pause(case=case, actor=SYSTEM)
    assert sla.first_response_due is None and sla.resolution_due is None
    assert case_sla(actor=SYSTEM, case=case)["resolution"]["state"] == "paused"

    # Long past the original due times: a paused case is not breached.
    clock.set(datetime(2026, 3, 11, 9, 45, tzinfo=PARIS))
    assert sla_breaches_detect() == 0
    with pytest.raises(Conflict) as refused:
        case_sla_pause(case=case, actor=SYSTEM)
    assert refused.value.code == "not_running"

    clock.set(datetime(2026, 3, 11, 10, 0, tzinfo=PARIS))  # Wednesday
    sla = case_sla_resume(case=case, actor=SYSTEM)
    # Waited Tuesday 11:00-18:00 and Wednesday 09:00-10:00: eight business hours.
    assert sla.paused_seconds == 8 * 3600
    assert sla.first_response_due == datetime(2026, 3, 11, 11, 0, tzinfo=PARIS)
    assert sla.resolution_due == datetime(2026, 3, 11, 17, 0, tzinfo=PARIS)
    state = case_sla(actor=SYSTEM, case=case)
    assert state["paused"] is False and state["paused_minutes"] == 480
    assert state["resolution"]["state"] == "running"
    with pytest.raises(Conflict):
        case_sla_resume(case=case, actor=SYSTEM)
    assert set(
        RecordChange.objects.filter(object_api_name="case", record_id=str(case.pk)).values_list(
            "field", flat=True
        )
    ) >= {"sla_paused", "sla_resumed"}


def test_a_breach_is_recorded_and_announced_once_even_when_the_sweep_runs_twice(hotels, clock):
    heard: list[dict] = []
    sla_breached_subscribe(heard.append)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 10, 59, tzinfo=PARIS))
    assert sla_breaches_detect() == 0
    clock.set(datetime(2026, 3, 10, 11, 1, tzinfo=PARIS))
    assert sla_breaches_detect() == 1
    assert sla_breaches_detect() == 0
    mine = [h for h in heard if h["id"] == str(case.pk)]
    assert [(h["timer"], h["due_at"]) for h in mine] == [
        ("first_response", datetime(2026, 3, 10, 10, 0, tzinfo=UTC).isoformat())
    ]
    state = case_sla(actor=SYSTEM, case=case)
    assert state["first_response"]["state"] == "breached"
    assert state["resolution"]["state"] == "running"
    assert (
        RecordChange.objects.filter(
            object_api_name="case", record_id=str(case.pk), field="sla_first_response_breached"
        ).count()
        == 1
    )


def test_picking_the_case_up_meets_the_first_response_and_resolving_stops_the_clock(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 9, 40, tzinfo=PARIS))
    case = case_update(case=case, status=Case.Status.IN_PROGRESS, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 15, 0, tzinfo=PARIS))
    case = case_update(case=case, status=Case.Status.RESOLVED, actor=SYSTEM)
    state = case_sla(actor=SYSTEM, case=case)
    assert state["first_response"]["state"] == "met"
    assert state["first_response"]["done_at"] == datetime(2026, 3, 10, 9, 40, tzinfo=PARIS)
    assert state["resolution"]["state"] == "met"
    # Resolved cases are never swept into a breach.
    clock.set(datetime(2026, 3, 20, 12, 0, tzinfo=PARIS))
    assert sla_breaches_detect() == 0

    # Reopened on Thursday 09:00: the two business days it spent resolved do not count.
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=PARIS))
    case_update(case=case, status=Case.Status.REOPENED, actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.resolved_at is None
    # 6 hours used before (09:00-15:00), 2 left from Thursday 09:00.
    assert sla.resolution_due == datetime(2026, 3, 12, 11, 0, tzinfo=PARIS)


def test_a_late_resolution_is_a_breach_without_waiting_for_the_sweep(hotels, clock):
    heard: list[dict] = []
    sla_breached_subscribe(heard.append)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=PARIS))
    case_update(case=case, status=Case.Status.RESOLVED, actor=SYSTEM)
    mine = sorted(h["timer"] for h in heard if h["id"] == str(case.pk))
    assert mine == ["first_response", "resolution"]
    assert sla_breaches_detect() == 0


def test_a_higher_priority_takes_its_targets_from_the_start(hotels, clock):
    from crm.service.services.levels import service_level_create

    service_level_create(
        category="room",
        priority="urgent",
        first_response_minutes=15,
        resolution_minutes=60,
        actor=SYSTEM,
    )
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 9, 5, tzinfo=PARIS))
    case_update(case=case, priority=Case.Priority.URGENT, actor=SYSTEM)
    sla = CaseSla.objects.get(case=case)
    assert sla.first_response_due == datetime(2026, 3, 10, 9, 15, tzinfo=PARIS)
    assert sla.resolution_due == datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)


def test_pausing_needs_the_edit_right_on_cases_and_the_hotel(hotels, clock, make_user):
    from tenants.access.errors import AccessDenied

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    reader = Principal.of(make_user("reservations"))  # views cases, edits none
    with pytest.raises(AccessDenied):
        case_sla_pause(case=case, actor=reader)
    elsewhere = Principal.of(make_user("service_agent", hotels=[hotels["tokyo"]]))
    with pytest.raises(AccessDenied):
        case_sla_pause(case=case, actor=elsewhere)
    agent = Principal.of(make_user("service_agent", hotels=[hotels["paris"]]))
    assert case_sla_pause(case=case, actor=agent).paused_since is not None


def test_around_the_clock_hours_count_real_time_across_the_dst_change():
    # Paris moves its clocks forward in the night of 28 to 29 March 2026.
    hours = Hours(zone=ZoneInfo("Europe/Paris"))
    start = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)
    due = business_add(hours, start, 24 * 3600)
    assert due == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert due.astimezone(PARIS).time() == time(13, 0)
    assert business_seconds(hours, start, due) == 24 * 3600


def test_business_seconds_and_add_agree_over_a_calendar_with_a_lunch_break():
    hours = Hours(
        zone=TOKYO,
        week={d: [(time(9), time(12)), (time(13), time(18))] for d in range(5)},
    )
    start = datetime(2026, 3, 13, 17, 0, tzinfo=TOKYO)  # Friday
    due = business_add(hours, start, 3 * 3600)
    assert due == datetime(2026, 3, 16, 11, 0, tzinfo=TOKYO)
    assert business_seconds(hours, start, due) == 3 * 3600
    assert business_seconds(hours, due, start) == 0


def test_a_breach_starts_the_workflows_triggered_by_case_sla_breached_once(hotels, clock):
    from django.core.exceptions import ValidationError

    from metadata.models import WorkflowRun
    from metadata.services.workflows import workflow_create
    from metadata.workflows.engine import workflow_run_execute

    escalate = workflow_create(
        key="sla_escalate",
        name="Escalate missed targets",
        object_api_name="case",
        trigger={"type": "event", "event": "case_sla_breached"},
        actions=[{"type": "update_field", "field": "priority", "value": "urgent"}],
        enabled=True,
        actor=SYSTEM,
    )
    with pytest.raises(ValidationError) as unknown:
        workflow_create(
            key="nope",
            name="Nope",
            object_api_name="case",
            trigger={"type": "event", "event": "guest_birthday"},
            actions=[{"type": "update_field", "field": "priority", "value": "urgent"}],
            actor=SYSTEM,
        )
    assert list(unknown.value.message_dict) == ["trigger.event"]

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    case = _case(hotels["paris"])
    clock.set(datetime(2026, 3, 10, 11, 30, tzinfo=PARIS))
    assert sla_breaches_detect() == 1
    assert sla_breaches_detect() == 0
    [run] = WorkflowRun.objects.filter(workflow=escalate, record_id=str(case.pk))
    assert (run.trigger_type, run.event["data"]["timer"]) == ("event", "first_response")
    workflow_run_execute(run_id=run.pk)
    assert Case.objects.get(pk=case.pk).priority == Case.Priority.URGENT


def test_compliance_per_hotel_and_month_equals_a_hand_count(hotels, clock):
    """Paris, March 2026, four cases opened Tuesday 10 March at 09:00 (first response
    due 11:00, resolution 17:00): one answered at 10:00 and resolved at 12:00 (both met),
    one answered at 12:00 (late) and resolved at 16:00 (met), one never answered and swept
    at 12:00 (breached, resolution still running), one of low priority (no target).
    First response: 1 met, 2 breached -> 33.3 %; resolution: 2 met, 0 breached -> 100 %."""
    from crm.service.selectors import sla_measures

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    quick, slow, silent = (_case(hotels["paris"]) for _ in range(3))
    _case(hotels["paris"], priority="low")
    for case in (quick, slow, silent):
        Case.objects.filter(pk=case.pk).update(created=datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    Case.objects.filter(priority="low").update(created=datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS))
    quick = case_update(case=quick, status=Case.Status.IN_PROGRESS, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=PARIS))
    case_update(case=quick, status=Case.Status.RESOLVED, actor=SYSTEM)
    slow = case_update(case=slow, status=Case.Status.IN_PROGRESS, actor=SYSTEM)
    assert sla_breaches_detect() == 1  # the silent one
    clock.set(datetime(2026, 3, 10, 16, 0, tzinfo=PARIS))
    case_update(case=slow, status=Case.Status.RESOLVED, actor=SYSTEM)

    [row] = sla_measures(actor=SYSTEM, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (row["property"], row["month"], row["cases"]) == (hotels["paris"].pk, "2026-03", 4)
    assert (row["first_response_met"], row["first_response_breached"]) == (1, 2)
    assert row["first_response_compliance"] == Decimal("33.3")
    assert (row["resolution_met"], row["resolution_breached"]) == (2, 0)
    assert row["resolution_compliance"] == Decimal("100.0")
    # Mean minutes from 09:00: first responses at 10:00 and 12:00, resolutions at 12:00
    # and 16:00.
    assert (row["first_response_minutes"], row["resolution_minutes"]) == (120, 300)
    assert (row["reopened"], row["reopen_rate"]) == (0, Decimal("0.0"))
    assert row["categories"] == {"room": 4}
    assert row["compensation"] == []
    assert sla_measures(actor=SYSTEM, start=date(2026, 4, 1), end=date(2026, 4, 30)) == []

    # The slow one comes back; the quick one's guest gets a voucher.
    from crm.service.services.desk import compensation_decide, compensation_request

    clock.set(datetime(2026, 3, 10, 16, 30, tzinfo=PARIS))
    case_update(case=slow, status=Case.Status.REOPENED, actor=SYSTEM)
    voucher = compensation_request(case=quick, kind="voucher", amount="20", actor=SYSTEM)
    compensation_decide(compensation=voucher, approve=True, actor=SYSTEM)
    compensation_request(case=quick, kind="credit", amount="5", actor=SYSTEM)  # not decided
    [row] = sla_measures(actor=SYSTEM, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (row["reopened"], row["reopen_rate"]) == (1, Decimal("50.0"))
    assert row["resolution_minutes"] == 180  # only the quick one is resolved now
    assert row["compensation"] == [
        {"kind": "voucher", "count": 1, "amount": Decimal("20.00"), "currency": "EUR",
         "points": None}
    ]  # fmt: skip
