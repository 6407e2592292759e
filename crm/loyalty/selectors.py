"""Reads of the programme, each asking the principal (object right, module on)."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.loyalty.models import LedgerEntry, Member, Redemption, Reward, Tier
from tenants.access.principal import Principal
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
