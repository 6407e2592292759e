"""The points ledger: every movement of points goes through here.

One rule keeps it exact: whoever posts holds the member row's lock
(``member_lock``, ``SELECT ... FOR UPDATE``) from reading the balance to writing the entry
and the new balance, in one transaction. Two redemptions against one balance therefore
run one after the other, the second sees what the first left, and the database's check
(balance >= 0) backs the rule up. Credits are buckets consumed first-in first-out (the
earliest expiry first); a member's due buckets are expired before anything is taken
from the balance, so the balance never includes points that have expired."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from crm.loyalty.models import LedgerEntry, Member, Programme
from crm.models import RecordChange
from crm.services.audit import event_record
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

Kind = LedgerEntry.Kind
Source = LedgerEntry.Source
# The largest manual adjustment, either way (a typo of a few zeros is refused).
ADJUST_LIMIT = 10_000_000


class InsufficientPoints(ApplicationError):
    status_code = 409
    default_code = "insufficient_points"


class MemberInactive(ApplicationError):
    status_code = 409
    default_code = "member_inactive"


def today() -> date:
    return timezone.localdate()


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def programme_current() -> Programme:
    """The tenant's programme (the migration made it; a schema without it gets it)."""
    programme = Programme.objects.filter(pk=1).first()
    if programme is None:
        programme, _ = Programme.objects.get_or_create(pk=1)
    return programme


def expiry_for(programme: Programme, earned_on: date) -> date | None:
    return months_later(earned_on, programme.expiry_months) if programme.expiry_months else None


def member_lock(member_id: int) -> Member:
    """The member row, locked until the caller's transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("member_lock needs a transaction (call it inside a service)")
    return Member.objects.select_for_update().get(pk=member_id)


def actor_fields(actor: Principal) -> dict[str, Any]:
    return {
        "actor_user_id": actor.user_id,
        "actor_label": actor.label if actor.is_system else "",
    }


@dataclass
class Taken:
    entry_id: int
    points: int
    expires_on: date | None


def _member_save(member: Member, fields: list[str]) -> None:
    member.save(update_fields=[*fields, "updated"])


def credit(
    *,
    member: Member,
    kind: str,
    source: str,
    points: int,
    actor: Principal,
    expires_on: date | None,
    reason: str = "",
    **extra: Any,
) -> LedgerEntry:
    """Add a bucket of ``points`` (>= 0) to a locked member."""
    if points < 0:
        raise ValueError("a credit adds points")
    entry = LedgerEntry.objects.create(
        member=member,
        kind=kind,
        source=source,
        points=points,
        remaining=points,
        expires_on=expires_on,
        reason=reason,
        **actor_fields(actor),
        **extra,
    )
    member.balance += points
    fields = ["balance"]
    if kind == Kind.EARN or (kind == Kind.ADJUST and points > 0):
        member.lifetime_points += points
        fields.append("lifetime_points")
    _member_save(member, fields)
    return entry


def _take(member: Member, points: int, *, first: LedgerEntry | None = None) -> list[Taken]:
    """Consume ``points`` from the member's open buckets, ``first`` before the others,
    then the earliest expiry first (never-expiring buckets last), oldest first."""
    taken: list[Taken] = []
    left = points
    open_buckets = list(
        LedgerEntry.objects.filter(member=member, remaining__gt=0)
        .order_by(F("expires_on").asc(nulls_last=True), "id")
        .only("id", "remaining", "expires_on")
    )
    if first is not None:
        open_buckets.sort(key=lambda e: e.pk != first.pk)
    changed = []
    for bucket in open_buckets:
        if left == 0:
            break
        amount = min(bucket.remaining, left)
        bucket.remaining -= amount
        left -= amount
        changed.append(bucket)
        taken.append(Taken(bucket.pk, amount, bucket.expires_on))
    if left:
        # The balance said there was enough: the ledger and the balance disagree.
        raise RuntimeError(f"member {member.pk}: buckets hold {points - left}, not {points}")
    LedgerEntry.objects.bulk_update(changed, ["remaining"])
    return taken


def debit(
    *,
    member: Member,
    kind: str,
    source: str,
    points: int,
    actor: Principal,
    reason: str = "",
    first: LedgerEntry | None = None,
    details: dict | None = None,
    **extra: Any,
) -> LedgerEntry:
    """Take ``points`` (> 0) from a locked member's balance, FIFO over its buckets. Never
    below zero: ``InsufficientPoints`` (409) says how many there are."""
    if points <= 0:
        raise ValueError("a debit takes points")
    if member.balance < points:
        raise InsufficientPoints(
            f"Member {member.number} has {member.balance} points; {points} are needed.",
            field="points",
        )
    taken = _take(member, points, first=first)
    entry = LedgerEntry.objects.create(
        member=member,
        kind=kind,
        source=source,
        points=-points,
        remaining=0,
        reason=reason,
        details={
            **(details or {}),
            "taken": [
                [t.entry_id, t.points, t.expires_on.isoformat() if t.expires_on else None]
                for t in taken
            ],
        },
        **actor_fields(actor),
        **extra,
    )
    member.balance -= points
    _member_save(member, ["balance"])
    return entry


def expire_due(*, member: Member, on: date, actor: Principal) -> list[LedgerEntry]:
    """Expire a locked member's buckets whose date has come: one ``expire`` entry per
    bucket, for what was left of it."""
    due = list(
        LedgerEntry.objects.filter(member=member, remaining__gt=0, expires_on__lte=on).order_by(
            "expires_on", "id"
        )
    )
    entries = []
    for bucket in due:
        entries.append(
            LedgerEntry(
                member=member,
                kind=Kind.EXPIRE,
                source=Source.SYSTEM,
                points=-bucket.remaining,
                remaining=0,
                reason=f"Points earned {bucket.created_at.date().isoformat()} expired on "
                f"{bucket.expires_on.isoformat() if bucket.expires_on else ''}",
                details={"bucket": bucket.pk},
                **actor_fields(actor),
            )
        )
        member.balance -= bucket.remaining
        bucket.remaining = 0
    if due:
        LedgerEntry.objects.bulk_update(due, ["remaining"])
        entries = LedgerEntry.objects.bulk_create(entries)
        _member_save(member, ["balance"])
    return entries


def balance_recount(member: Member) -> tuple[int, int]:
    """(sum of all entries, sum of open buckets): both equal ``member.balance`` when the
    ledger is consistent. For checks and tests; the balance itself is never recounted."""
    total = LedgerEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0
    open_sum = (
        LedgerEntry.objects.filter(member=member, remaining__gt=0).aggregate(s=Sum("remaining"))[
            "s"
        ]
        or 0
    )
    return int(total), int(open_sum)


@transaction.atomic
def points_adjust(
    *,
    member: Member,
    points: int,
    reason: str,
    actor: Principal,
    source: str = Source.STAFF,
) -> LedgerEntry:
    """A manual correction (goodwill, a missed stay, a mistake): needs the right to add
    ledger entries (administrators by default) and a reason; written to the audit
    trail. A negative adjustment cannot take the balance below zero."""
    actor.require("loyalty_ledger", "create")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("Say why the points change.", "required")})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise ValidationError({"points": "Give a whole number of points other than zero."})
    if abs(points) > ADJUST_LIMIT:
        raise ValidationError({"points": f"At most {ADJUST_LIMIT:,} points either way."})
    if source not in (Source.STAFF, Source.API):
        raise ValidationError({"source": f"{source} is not a source of adjustments."})
    locked = member_lock(member.pk)
    on = today()
    expire_due(member=locked, on=on, actor=actor)
    before = locked.balance
    if points > 0:
        entry = credit(
            member=locked,
            kind=Kind.ADJUST,
            source=source,
            points=points,
            actor=actor,
            expires_on=expiry_for(programme_current(), on),
            reason=reason,
        )
    else:
        entry = debit(
            member=locked,
            kind=Kind.ADJUST,
            source=source,
            points=-points,
            actor=actor,
            reason=reason,
        )
    event_record(
        object_api_name="loyalty_account",
        record_id=locked.pk,
        action=RecordChange.Action.UPDATE,
        field="balance",
        old=before,
        new={"balance": locked.balance, "points": points, "reason": reason, "entry": entry.pk},
        user_id=actor.user_id,
        announce=False,
    )
    member.balance = locked.balance
    return entry


def expiry_run(*, actor: Principal, on: date | None = None, batch: int = 500) -> int:
    """Expire every member's due buckets (the nightly job): one short transaction per
    member, so a run over many members holds no lock for long and a run interrupted
    half-way resumes where it stopped (buckets already expired are not due any more).
    Running it twice the same day expires nothing the second time. Returns how many
    buckets expired."""
    actor.require_admin("expire points")
    on = on or today()
    count = 0
    last = 0
    while True:
        ids = list(
            LedgerEntry.objects.filter(remaining__gt=0, expires_on__lte=on, member_id__gt=last)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()[:batch]
        )
        if not ids:
            return count
        for member_id in ids:
            with transaction.atomic():
                member = member_lock(member_id)
                count += len(expire_due(member=member, on=on, actor=actor))
        last = ids[-1]


def revenue_points(revenue: Decimal, programme: Programme, multiplier: Decimal) -> int:
    """Points for ``revenue`` in the base currency: rounded down, never negative."""
    if revenue <= 0:
        return 0
    return int(
        (revenue * programme.points_per_unit * multiplier).to_integral_value(rounding=ROUND_FLOOR)
    )
