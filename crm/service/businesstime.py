"""Business time: adding and measuring working seconds in a calendar's time zone.

Opening hours are wall-clock times of the zone, so a day's openings are made in local
time and turned into UTC instants before any arithmetic (Python subtracts two datetimes
of the same zone by their wall clocks, which is wrong across a DST change). A calendar
with no opening hours at all is open around the clock (still minus its holidays)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A target that finds no opening within this many days is never due (a calendar whose
# every day is closed).
HORIZON_DAYS = 800


@dataclass(frozen=True)
class Hours:
    zone: ZoneInfo
    # weekday (0 Monday) -> openings as (opens, closes); closes 00:00 is midnight.
    week: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not any(self.week.values())

    def openings(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's openings as UTC instants, in order."""
        if day in self.holidays:
            return []
        spans = [(time.min, time.min)] if self.always_open else self.week.get(day.weekday(), ())
        out = []
        for opens, closes in sorted(spans):
            start = datetime.combine(day, opens, tzinfo=self.zone)
            end_day = day + timedelta(days=1) if closes == time.min else day
            end = datetime.combine(end_day, closes, tzinfo=self.zone)
            start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
            if end_utc > start_utc:
                out.append((start_utc, end_utc))
        return out

    def _from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            yield from self.openings(day + timedelta(days=offset))


def business_seconds(hours: Hours, start: datetime, end: datetime) -> int:
    """Open seconds between two instants (0 if ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    total = 0.0
    for opens, closes in hours._from(start):
        if opens >= end:
            break
        overlap = (min(closes, end) - max(opens, start)).total_seconds()
        if overlap > 0:
            total += overlap
    return int(total)


def business_add(hours: Hours, start: datetime, seconds: int) -> datetime | None:
    """The instant at which ``seconds`` of open time have passed since ``start``; None
    when the calendar has no opening within the horizon."""
    remaining = float(seconds)
    if remaining <= 0:
        return start
    for opens, closes in hours._from(start):
        if closes <= start:
            continue
        begin = max(opens, start)
        available = (closes - begin).total_seconds()
        if remaining <= available:
            return begin + timedelta(seconds=remaining)
        remaining -= available
    return None
