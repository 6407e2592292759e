"""Five-field cron expressions (minute hour day-of-month month day-of-week) with ``*``,
lists, ranges and steps, evaluated in the tenant's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


def _field(text: str, low: int, high: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"bad step in the {name} field")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise ValueError(f"bad range in the {name} field")
            start, end = int(a), int(b)
        elif part.isdigit():
            start = end = int(part)
            if step > 1:
                end = high
        else:
            raise ValueError(f"{part!r} in the {name} field is not a number")
        if start < low or end > high or start > end:
            raise ValueError(f"the {name} field takes {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def cron_parse(expression: str) -> tuple[frozenset[int], ...]:
    parts = (expression or "").split()
    if len(parts) != 5:
        raise ValidationError(
            {"trigger.cron": "Give five fields: minute hour day-of-month month day-of-week."}
        )
    try:
        fields = tuple(
            _field(p, low, high, name)
            for p, (low, high), name in zip(parts, _RANGES, _NAMES, strict=True)
        )
    except ValueError as exc:
        raise ValidationError({"trigger.cron": f"Invalid cron expression: {exc}."}) from None
    dow = fields[4]
    if 7 in dow:  # 7 is Sunday too
        fields = (*fields[:4], dow | {0})
    return fields


def cron_matches(fields: tuple[frozenset[int], ...], moment: datetime) -> bool:
    minute, hour, dom, month, dow = fields
    return (
        moment.minute in minute
        and moment.hour in hour
        and moment.day in dom
        and moment.month in month
        and (moment.isoweekday() % 7) in dow
    )


def cron_fire_times(expression: str, *, start: datetime, end: datetime) -> list[datetime]:
    """Fire times in (start, end], both aware datetimes in the tenant's zone."""
    fields = cron_parse(expression)
    moment = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    out = []
    while moment <= end:
        if cron_matches(fields, moment):
            out.append(moment)
        moment += timedelta(minutes=1)
    return out
