"""Service-level timers of cases.

A case's timers start when crm creates it (heard through its record event) with the
targets of its category and priority, in business time of its hotel's calendar. They
stop while the case waits on the guest (its status ``waiting_on_guest``, or the pause
doors ``case_sla_pause`` / ``case_sla_resume``) and while it is resolved (a reopened
case carries on where it stopped). The first response is the case leaving ``new`` or
``open`` (picked up, asking the guest, escalated or resolved). A timer past its due time
is a breach: recorded once (a conditional update, so a sweep running twice or a late
response racing the sweep announce it once) and announced as ``case.sla_breached``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Case, Property
from crm.service import clock as _clock
from crm.service.businesstime import Hours, business_add, business_seconds
from crm.service.models import BusinessCalendar, CaseSla, ServiceLevel
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.errors import Conflict

RUNNING = ("new", "open", "in_progress", "escalated", "waiting_on_guest", "reopened")
# Nobody has answered the guest yet while the case is in one of these.
UNTOUCHED = ("new", "open")
WAITING = "waiting_on_guest"
DONE = ("resolved", "closed")
PAUSE_REASONS = ("waiting_on_guest", "waiting_on_third_party")
FIRST, RESOLUTION = CaseSla.Timer.FIRST_RESPONSE.value, CaseSla.Timer.RESOLUTION.value


def clock() -> datetime:
    return _clock.now()


# --- calendars and targets -------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def hours_for(property_id: int | None) -> Hours:
    """The hotel's calendar, else the group's default calendar, else around the clock;
    in the calendar's zone, else the hotel's, else the group's."""
    calendar = None
    if property_id is not None:
        calendar = BusinessCalendar.objects.filter(property_id=property_id).first()
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(property__isnull=True).first()
    zone_name = ""
    if calendar is not None and calendar.timezone:
        zone_name = calendar.timezone
    elif property_id is not None:
        zone_name = (
            Property.objects.filter(pk=property_id).values_list("timezone", flat=True).first() or ""
        )
    if not zone_name:
        zone_name = getattr(current_tenant(), "timezone", "") or "UTC"
    if calendar is None:
        return Hours(zone=_zone(zone_name))
    week: dict[int, list] = {}
    for row in calendar.hours.all():
        week.setdefault(row.weekday, []).append((row.opens, row.closes))
    holidays = frozenset(calendar.holidays.values_list("day", flat=True))
    return Hours(zone=_zone(zone_name), week=week, holidays=holidays)


def level_for(*, category: str, priority: str) -> ServiceLevel | None:
    """The active target of this category and priority, else of any category."""
    found = {
        level.category: level
        for level in ServiceLevel.objects.filter(
            active=True, priority=priority, category__in=[category, ""]
        )
    }
    return found.get(category) or found.get("")


def _retarget(sla: CaseSla, *, category: str, priority: str) -> None:
    level = level_for(category=category, priority=priority)
    sla.service_level = level
    sla.first_response_minutes = level.first_response_minutes if level else None
    sla.resolution_minutes = level.resolution_minutes if level else None


def _dues(sla: CaseSla, property_id: int | None) -> None:
    """Due times from the start, the targets and the time spent stopped. Unknown while
    the clock is stopped (waiting on the guest)."""
    if sla.paused_since is not None:
        sla.first_response_due = sla.resolution_due = None
        return
    hours = hours_for(property_id)
    for timer, minutes in (
        (FIRST, sla.first_response_minutes),
        (RESOLUTION, sla.resolution_minutes),
    ):
        due = None
        if minutes is not None:
            due = business_add(hours, sla.started_at, minutes * 60 + sla.paused_seconds)
        setattr(sla, f"{timer}_due", due)


# --- breaches --------------------------------------------------------------------------


def _breach(sla: CaseSla, timer: str, at: datetime) -> bool:
    """Record a breach once; True if this call recorded it (and announced it)."""
    column = f"{timer}_breached_at"
    won = CaseSla.objects.filter(pk=sla.pk, **{f"{column}__isnull": True}).update(**{column: at})
    if not won:
        return False
    setattr(sla, column, at)
    from crm.service.events import sla_breached_announce

    sla_breached_announce(sla=sla, timer=timer, at=at)
    return True


def _late(sla: CaseSla, timer: str, done_at: datetime) -> None:
    due = getattr(sla, f"{timer}_due")
    if due is not None and done_at > due and getattr(sla, f"{timer}_breached_at") is None:
        _breach(sla, timer, due)


@transaction.atomic
def sla_breaches_detect(*, limit: int = 1000) -> int:
    """Record every running timer past its due time (the beat sweep). Safe to run twice
    and beside itself: each breach is claimed by a conditional update."""
    now = clock()
    found = 0
    base = CaseSla.objects.select_related("case").filter(
        paused_since__isnull=True, resolved_at__isnull=True
    )
    first = base.filter(
        first_response_at__isnull=True,
        first_response_breached_at__isnull=True,
        first_response_due__lte=now,
    ).order_by("first_response_due")[:limit]
    for sla in first:
        found += _breach(sla, FIRST, sla.first_response_due)  # type: ignore[arg-type]
    late = base.filter(resolution_breached_at__isnull=True, resolution_due__lte=now).order_by(
        "resolution_due"
    )[:limit]
    for sla in late:
        found += _breach(sla, RESOLUTION, sla.resolution_due)  # type: ignore[arg-type]
    return found


# --- the case's life -------------------------------------------------------------------


def sla_start(*, case: Case, started_at: datetime | None = None) -> CaseSla:
    """The case's timers (made once; a second call returns the row)."""
    existing = CaseSla.objects.filter(case=case).first()
    if existing is not None:
        return existing
    sla = sla_new(case=case, started_at=started_at or clock())
    sla.save()
    return sla


def sla_new(*, case: Case, started_at: datetime) -> CaseSla:
    """The timers a case starting at ``started_at`` has (not stored)."""
    sla = CaseSla(case=case, started_at=started_at)
    _retarget(sla, category=case.category, priority=case.priority)
    if case.status not in UNTOUCHED:
        sla.first_response_at = sla.started_at
    if case.status in DONE:
        sla.resolved_at = sla.started_at
    _dues(sla, case.property_id)
    return sla


def sla_case_changed(*, case_id: int, old: dict[str, Any], new: dict[str, Any]) -> CaseSla | None:
    """A case was updated: respond, resolve, reopen, retarget as its values say."""
    sla = CaseSla.objects.select_for_update().filter(case_id=case_id).first()
    if sla is None:
        case = Case.objects.filter(pk=case_id).first()
        return sla_start(case=case) if case is not None else None
    now = clock()
    old_status, status = old.get("status"), new.get("status")
    if (old.get("category"), old.get("priority")) != (new.get("category"), new.get("priority")):
        _retarget(sla, category=new.get("category") or "", priority=new.get("priority") or "")
    if old_status in UNTOUCHED and status not in UNTOUCHED and sla.first_response_at is None:
        _dues(sla, new.get("property"))
        _late(sla, FIRST, now)
        sla.first_response_at = now
    if status == WAITING and old_status != WAITING:
        if sla.paused_since is None and sla.resolved_at is None:
            # Waiting on the guest: the clocks stop; a due time already passed is a
            # breach first, whatever the sweep has seen so far.
            _dues(sla, new.get("property"))
            if sla.first_response_at is None:
                _late(sla, FIRST, now)
            _late(sla, RESOLUTION, now)
            sla.paused_since, sla.pause_reason = now, WAITING
    elif (
        old_status == WAITING
        and status != WAITING
        and sla.paused_since is not None
        and sla.pause_reason == WAITING
    ):
        # The business time spent waiting moves the due times forward.
        _unpause(sla, new.get("property"), now)
    if status in DONE and old_status not in DONE and sla.resolved_at is None:
        if sla.paused_since is not None:
            _unpause(sla, new.get("property"), now)
        _dues(sla, new.get("property"))
        if sla.first_response_at is None:
            _late(sla, FIRST, now)
            sla.first_response_at = now
        _late(sla, RESOLUTION, now)
        sla.resolved_at = now
    elif status not in DONE and old_status in DONE and sla.resolved_at is not None:
        # Reopened: the time it spent resolved does not count against it.
        hours = hours_for(new.get("property"))
        sla.paused_seconds += business_seconds(hours, sla.resolved_at, now)
        sla.resolved_at = None
        sla.reopened_count += 1
    _dues(sla, new.get("property"))
    sla.save()
    return sla


def sla_responded(*, case: Case) -> None:
    """Someone answered the guest (a reply from the case): the first response, if it is
    still owed. A late one is a breach at once."""
    sla = CaseSla.objects.select_for_update().filter(case=case).first()
    if sla is None or sla.first_response_at is not None:
        return
    now = clock()
    if sla.paused_since is None:
        _late(sla, FIRST, now)
    sla.first_response_at = now
    sla.save(update_fields=["first_response_at", "updated"])


def _unpause(sla: CaseSla, property_id: int | None, now: datetime) -> None:
    assert sla.paused_since is not None
    sla.paused_seconds += business_seconds(hours_for(property_id), sla.paused_since, now)
    sla.paused_since = None
    sla.pause_reason = ""


def _locked(case: Case, actor: Principal) -> CaseSla:
    actor.require("case", "edit")
    actor.require_property(case.property_id)
    sla = CaseSla.objects.select_for_update().filter(case_id=case.pk).first()
    return sla if sla is not None else sla_start(case=case)


@transaction.atomic
def case_sla_pause(*, case: Case, actor: Principal, reason: str = "waiting_on_guest") -> CaseSla:
    """Stop the clock while the case waits on the guest (or a third party). 409
    ``not_running`` when the case is resolved or already waiting."""
    if reason not in PAUSE_REASONS:
        raise ValidationError({"reason": f"Use one of {', '.join(PAUSE_REASONS)}."})
    sla = _locked(case, actor)
    if sla.resolved_at is not None or sla.paused_since is not None:
        raise Conflict("The case's clock is not running.", code="not_running", field="case")
    now = clock()
    # A due time already passed is a breach, whatever the sweep has seen so far.
    if sla.first_response_at is None:
        _late(sla, FIRST, now)
    _late(sla, RESOLUTION, now)
    sla.paused_since, sla.pause_reason = now, reason
    _dues(sla, case.property_id)
    sla.save()
    _audit(case, actor, "sla_paused", reason)
    return sla


@transaction.atomic
def case_sla_resume(*, case: Case, actor: Principal) -> CaseSla:
    """Start the clock again; the due times move by the business time spent waiting.
    409 ``not_paused`` when it was not waiting, ``status_waiting`` when the case's status
    is waiting on the guest (leaving that status resumes it)."""
    sla = _locked(case, actor)
    if sla.paused_since is None:
        raise Conflict("The case is not waiting.", code="not_paused", field="case")
    if Case.objects.filter(pk=case.pk, status=WAITING).exists():
        # The clock follows the status: it runs again when the case leaves it.
        raise Conflict(
            "The case's status is waiting on the guest: change the status to resume.",
            code="status_waiting",
            field="status",
        )
    _unpause(sla, case.property_id, clock())
    _dues(sla, case.property_id)
    sla.save()
    _audit(case, actor, "sla_resumed", "")
    return sla


def _audit(case: Case, actor: Principal, what: str, value: str) -> None:
    from crm.models import RecordChange
    from crm.services.audit import event_record

    event_record(
        object_api_name="case",
        record_id=case.pk,
        action=RecordChange.Action.UPDATE,
        user_id=actor.user_id,
        field=what,
        new=value or True,
        announce=False,
    )


# --- reading ---------------------------------------------------------------------------


def timer_state(sla: CaseSla, timer: str, now: datetime | None = None) -> dict[str, Any]:
    """One timer as the API and screens show it: ``none`` (no target), ``running``,
    ``paused``, ``met`` or ``breached``."""
    now = now or clock()
    minutes = getattr(sla, f"{timer}_minutes")
    due = getattr(sla, f"{timer}_due")
    done = sla.first_response_at if timer == FIRST else sla.resolved_at
    breached_at = getattr(sla, f"{timer}_breached_at")
    if minutes is None:
        state = "none"
    elif done is not None:
        state = "breached" if breached_at or (due is not None and done > due) else "met"
    elif sla.paused_since is not None:
        state = "breached" if breached_at else "paused"
    elif breached_at or (due is not None and now > due):
        state = "breached"
    else:
        state = "running"
    return {
        "target_minutes": minutes,
        "due_at": due,
        "done_at": done,
        "breached_at": breached_at,
        "state": state,
    }


def sla_missing_start(*, limit: int = 500) -> int:
    """Timers for running cases that have none (cases from before the module, or whose
    event handler failed), started when the case was created."""
    started = 0
    for case in Case.objects.filter(sla__isnull=True, status__in=RUNNING).order_by("pk")[:limit]:
        with transaction.atomic():
            sla_start(case=case, started_at=case.created)
        started += 1
    return started
