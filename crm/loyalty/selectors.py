"""Reads of the programme, each asking the principal (object right, module on)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet, Sum

from crm.loyalty.models import LedgerEntry, Member, Redemption, Reward, Tier
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.errors import NotFound


def members_list(*, actor: Principal, tier: str | None = None) -> QuerySet[Member]:
    actor.require("loyalty_account", "view")
    queryset = Member.objects.select_related("tier", "guest").order_by("pk")
    if tier:
        queryset = queryset.filter(tier__key=tier)
    return queryset


def member_get(*, actor: Principal, member_id: int | None = None, number: str = "") -> Member:
    """A member by id or number; the same 404 whether it does not exist or is out of
    reach."""
    queryset = members_list(actor=actor)
    found = (
        queryset.filter(pk=member_id).first()
        if member_id
        else queryset.filter(number=number).first()
    )
    if found is None:
        raise NotFound("There is no such loyalty member.", field="member")
    return found


def member_for_guest(*, actor: Principal, guest_id: int) -> Member | None:
    actor.require("loyalty_account", "view")
    return Member.objects.select_related("tier").filter(guest_id=guest_id).first()


def ledger_list(*, actor: Principal, member_id: int | None = None) -> QuerySet[LedgerEntry]:
    actor.require("loyalty_ledger", "view")
    queryset = LedgerEntry.objects.select_related("member").order_by("-created_at", "-pk")
    if member_id is not None:
        queryset = queryset.filter(member_id=member_id)
    return queryset


def rewards_list(*, actor: Principal, active_only: bool = False) -> QuerySet[Reward]:
    actor.require("loyalty_reward", "view")
    queryset = Reward.objects.order_by("points", "key")
    return queryset.filter(active=True) if active_only else queryset


def reward_get(*, actor: Principal, reward_id: int) -> Reward:
    found = rewards_list(actor=actor).filter(pk=reward_id).first()
    if found is None:
        raise NotFound("There is no such reward.", field="reward")
    return found


def redemptions_list(*, actor: Principal, member_id: int | None = None) -> QuerySet[Redemption]:
    actor.require("loyalty_redemption", "view")
    queryset = Redemption.objects.select_related("member", "reward").order_by("-reserved_at", "-pk")
    if member_id is not None:
        queryset = queryset.filter(member_id=member_id)
    return queryset


def redemption_get(*, actor: Principal, redemption_id: int) -> Redemption:
    found = redemptions_list(actor=actor).filter(pk=redemption_id).first()
    if found is None:
        raise NotFound("There is no such redemption.", field="redemption")
    return found


def tiers_list(*, actor: Principal) -> QuerySet[Tier]:
    actor.require("loyalty_account", "view")
    return Tier.objects.order_by("rank")


STATEMENT_MAX_ENTRIES = 1000


def member_statement(*, actor: Principal, member: Member, start: date, end: date) -> dict:
    """A member's statement for the days ``start``..``end`` (the tenant's time zone): the
    balance before, the entries of the period (oldest first, at most 1,000), the totals
    per kind, and the balance after (which the totals explain exactly)."""
    actor.require("loyalty_ledger", "view")
    if end < start:
        from django.core.exceptions import ValidationError

        raise ValidationError({"end": "The end of the period comes before its start."})
    zone = ZoneInfo(getattr(current_tenant(), "timezone", None) or "UTC")
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    entries = LedgerEntry.objects.filter(member=member)
    opening = entries.filter(created_at__lt=since).aggregate(s=Sum("points"))["s"] or 0
    period = entries.filter(created_at__gte=since, created_at__lt=until)
    totals = dict.fromkeys(LedgerEntry.Kind.values, 0)
    for row in period.values("kind").annotate(s=Sum("points")):
        totals[row["kind"]] = int(row["s"] or 0)
    listed = list(period.order_by("created_at", "pk")[: STATEMENT_MAX_ENTRIES + 1])
    return {
        "member": member,
        "start": start,
        "end": end,
        "opening_balance": int(opening),
        "totals": totals,
        "closing_balance": int(opening) + sum(totals.values()),
        "entries": listed[:STATEMENT_MAX_ENTRIES],
        "truncated": len(listed) > STATEMENT_MAX_ENTRIES,
    }
