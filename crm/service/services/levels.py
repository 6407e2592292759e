"""Service levels (targets per category and priority) and business calendars. Each
change is in the audit trail. Running cases keep the targets they started with; a
calendar change moves due times of cases from their next change on."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import Case, Property, RecordChange
from crm.service.models import F_MAX, BusinessCalendar, Holiday, OpeningHours, ServiceLevel
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict

LEVEL_FIELDS = ("category", "priority", "first_response_minutes", "resolution_minutes", "active")


def _level_clean(level: ServiceLevel) -> None:
    if level.category not in ("", *Case.Category.values):
        raise ValidationError(
            {"category": f"Use one of {', '.join(Case.Category.values)} (or blank: any)."}
        )
    if level.priority not in Case.Priority.values:
        raise ValidationError({"priority": f"Use one of {', '.join(Case.Priority.values)}."})
    for name in ("first_response_minutes", "resolution_minutes"):
        value = getattr(level, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= F_MAX:
            raise ValidationError({name: f"Give whole minutes from 1 to {F_MAX}."})
    if level.first_response_minutes > level.resolution_minutes:
        raise ValidationError(
            {"first_response_minutes": "The first response cannot be due after the resolution."}
        )


@transaction.atomic
def service_level_create(
    *,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
    category: str = "",
    active: bool = True,
    actor: Principal,
) -> ServiceLevel:
    actor.require("service_level", "create")
    level = ServiceLevel(
        category=category,
        priority=priority,
        first_response_minutes=first_response_minutes,
        resolution_minutes=resolution_minutes,
        active=active,
    )
    _level_clean(level)
    try:
        with transaction.atomic():
            level.save()
    except IntegrityError as exc:
        raise Conflict(
            "There is a service level for this category and priority already.",
            code="duplicate",
            field="priority",
        ) from exc
    changes_record(
        object_api_name="service_level",
        record_id=level.pk,
        old={},
        new={n: getattr(level, n) for n in LEVEL_FIELDS},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return level


@transaction.atomic
def service_level_update(*, level: ServiceLevel, actor: Principal, **fields: Any) -> ServiceLevel:
    actor.require("service_level", "edit")
    unknown = sorted(set(fields) - set(LEVEL_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a service level setting." for n in unknown})
    locked = ServiceLevel.objects.select_for_update().get(pk=level.pk)
    old = {n: getattr(locked, n) for n in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
    _level_clean(locked)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise Conflict(
            "There is a service level for this category and priority already.",
            code="duplicate",
            field="priority",
        ) from exc
    changes_record(
        object_api_name="service_level",
        record_id=locked.pk,
        old=old,
        new={n: getattr(locked, n) for n in fields},
        user_id=actor.user_id,
    )
    return locked


def _hours_clean(hours: Any) -> list[tuple[int, time, time]]:
    if not isinstance(hours, list):
        raise ValidationError(
            {"hours": 'Give [{"weekday": 0, "opens": "09:00", "closes": "18:00"}].'}
        )
    out = []
    for index, row in enumerate(hours):
        where = f"hours[{index}]"
        if not isinstance(row, dict):
            raise ValidationError({where: "Give an object."})
        weekday = row.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError({f"{where}.weekday": "0 (Monday) to 6 (Sunday)."})
        times = []
        for name in ("opens", "closes"):
            value = row.get(name)
            if isinstance(value, time):
                times.append(value)
                continue
            try:
                times.append(time.fromisoformat(str(value)))
            except ValueError:
                raise ValidationError({f"{where}.{name}": "A time such as 09:00."}) from None
        opens, closes = times
        if closes != time.min and closes <= opens:
            raise ValidationError(
                {f"{where}.closes": "Closing comes after opening (00:00: midnight)."}
            )
        out.append((weekday, opens, closes))
    for day in range(7):
        spans = sorted((o, c if c != time.min else time.max) for d, o, c in out if d == day)
        for (_, first_end), (second_start, _) in zip(spans, spans[1:], strict=False):
            if second_start < first_end:
                raise ValidationError({"hours": f"Openings of weekday {day} overlap."})
    return out


def _holidays_clean(holidays: Any) -> list[tuple[date, str]]:
    if not isinstance(holidays, list):
        raise ValidationError({"holidays": 'Give [{"day": "2026-12-25", "name": "..."}].'})
    out: dict[date, str] = {}
    for index, row in enumerate(holidays):
        where = f"holidays[{index}]"
        if not isinstance(row, dict):
            raise ValidationError({where: "Give an object."})
        try:
            day = (
                row["day"]
                if isinstance(row.get("day"), date)
                else date.fromisoformat(str(row.get("day")))
            )
        except ValueError:
            raise ValidationError({f"{where}.day": "A date such as 2026-12-25."}) from None
        name = row.get("name") or ""
        if not isinstance(name, str) or len(name) > 100:
            raise ValidationError({f"{where}.name": "Up to 100 characters."})
        out[day] = name
    return sorted(out.items())


@transaction.atomic
def calendar_set(
    *,
    property: Property | None,
    name: str = "",
    timezone: str = "",
    hours: Any,
    holidays: Any = (),
    actor: Principal,
) -> BusinessCalendar:
    """Set the hotel's calendar (``property`` None: the group's default) as a whole:
    opening hours per weekday and holidays (no hours at all: open around the clock)."""
    actor.require("service_level", "edit")
    if property is not None:
        actor.require_property(property.pk)
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError):
            raise ValidationError({"timezone": f"{timezone} is not a time zone."}) from None
    openings = _hours_clean(hours)
    days = _holidays_clean(list(holidays))
    calendar = BusinessCalendar.objects.select_for_update().filter(property=property).first()
    old = {}
    if calendar is None:
        calendar = BusinessCalendar(property=property)
    else:
        old = {"name": calendar.name, "timezone": calendar.timezone}
    calendar.name = (name or (property.name if property else "Group hours"))[:100]
    calendar.timezone = timezone
    calendar.save()
    calendar.hours.all().delete()
    calendar.holidays.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=d, opens=o, closes=c) for d, o, c in openings
    )
    Holiday.objects.bulk_create(Holiday(calendar=calendar, day=d, name=n) for d, n in days)
    changes_record(
        object_api_name="service_level",
        record_id=f"calendar:{calendar.pk}",
        old=old,
        new={
            "name": calendar.name,
            "timezone": calendar.timezone,
            "hours": [[d, o.isoformat(), c.isoformat()] for d, o, c in openings],
            "holidays": [d.isoformat() for d, _ in days],
        },
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE if not old else RecordChange.Action.UPDATE,
    )
    return calendar
