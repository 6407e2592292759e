"""Rewards and their redemption: reserve (the points leave the balance at once, so
they cannot be spent twice) -> confirm (the reward was given) or cancel (the points come
back, into a bucket expiring when the earliest of the spent ones would have)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.loyalty.models import LedgerEntry, Member, Redemption, Reward
from crm.loyalty.services.ledger import (
    Kind,
    MemberInactive,
    Source,
    credit,
    debit,
    expire_due,
    member_lock,
    today,
)
from crm.models import RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict

REWARD_FIELDS = (
    "key",
    "name",
    "kind",
    "description",
    "points",
    "available_from",
    "available_until",
    "property_ids",
    "active",
)


class RewardUnavailable(ApplicationError):
    status_code = 409
    default_code = "reward_unavailable"


class RedemptionState(ApplicationError):
    status_code = 409
    default_code = "redemption_status"


def _reward_clean(reward: Reward) -> None:
    if reward.kind not in Reward.Kind.values:
        raise ValidationError({"kind": f"{reward.kind} is not a kind of reward."})
    if not isinstance(reward.points, int) or isinstance(reward.points, bool) or reward.points < 1:
        raise ValidationError({"points": "A reward costs at least one point."})
    if (
        reward.available_from
        and reward.available_until
        and reward.available_until < reward.available_from
    ):
        raise ValidationError({"available_until": "The end comes before the start."})
    ids = reward.property_ids
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationError({"property_ids": "Give a list of hotel ids."})
    from crm.models import Property

    unknown = sorted(
        set(ids) - set(Property.objects.filter(pk__in=ids).values_list("pk", flat=True))
    )
    if unknown:
        raise ValidationError({"property_ids": f"No hotel with id {unknown[0]}."})
    reward.property_ids = sorted(set(ids))
    reward.full_clean(exclude=["property_ids"], validate_unique=False)


@transaction.atomic
def reward_create(*, actor: Principal, **fields: Any) -> Reward:
    actor.require("loyalty_reward", "create")
    unknown = sorted(set(fields) - set(REWARD_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a setting of a reward." for n in unknown})
    reward = Reward(**{"property_ids": [], **fields})
    reward.name_en = reward.name_en or reward.name  # type: ignore[attr-defined]
    _reward_clean(reward)
    if Reward.objects.filter(key=reward.key).exists():
        raise Conflict(f"A reward {reward.key} exists already.", code="taken", field="key")
    reward.save()
    changes_record(
        object_api_name="loyalty_reward",
        record_id=reward.pk,
        old={},
        new={n: getattr(reward, n) for n in REWARD_FIELDS},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return reward


@transaction.atomic
def reward_update(*, reward: Reward, actor: Principal, **fields: Any) -> Reward:
    actor.require("loyalty_reward", "edit")
    unknown = sorted(set(fields) - set(REWARD_FIELDS) | ({"key"} & set(fields)))
    if unknown:
        raise ValidationError({n: f"{n} cannot be changed here." for n in unknown})
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    old = {n: getattr(reward, n) for n in fields}
    for name, value in fields.items():
        setattr(reward, name, value)
    _reward_clean(reward)
    reward.save()
    changes_record(
        object_api_name="loyalty_reward",
        record_id=reward.pk,
        old=old,
        new={n: getattr(reward, n) for n in fields},
        user_id=actor.user_id,
    )
    return reward


def _available(reward: Reward, *, on: date, property_id: int | None) -> None:
    if not reward.active:
        raise RewardUnavailable(f"The reward {reward.key} is withdrawn.", field="reward")
    if (reward.available_from and on < reward.available_from) or (
        reward.available_until and on > reward.available_until
    ):
        raise RewardUnavailable(f"The reward {reward.key} is not available today.", field="reward")
    if reward.property_ids and property_id not in reward.property_ids:
        raise RewardUnavailable(
            f"The reward {reward.key} can only be used at hotels {reward.property_ids}.",
            field="property_id",
        )


@transaction.atomic
def redemption_reserve(
    *,
    member: Member,
    reward: Reward,
    actor: Principal,
    property_id: int | None = None,
    note: str = "",
) -> Redemption:
    """Hold ``reward.points`` of the member's balance for the reward. Refused (409
    ``insufficient_points``) rather than ever going below zero, however many desks
    redeem at once: the member row is locked for the length of the check and post."""
    actor.require("loyalty_redemption", "create")
    if property_id is not None:
        actor.require_property(property_id, field="property_id")
    if len(note or "") > 500:
        raise ValidationError({"note": "Keep the note under 500 characters."})
    locked = member_lock(member.pk)
    if locked.status != Member.Status.ACTIVE:
        raise MemberInactive(f"Member {locked.number} is {locked.status}.", field="member")
    on = today()
    _available(reward, on=on, property_id=property_id)
    expire_due(member=locked, on=on, actor=actor)
    redemption = Redemption.objects.create(
        member=locked,
        reward=reward,
        points=reward.points,
        property_id=property_id,
        note=note or "",
        actor_user_id=actor.user_id,
    )
    debit(
        member=locked,
        kind=Kind.REDEEM,
        source=Source.REDEMPTION,
        points=reward.points,
        actor=actor,
        reason=f"Reward {reward.key}",
        redemption=redemption,
    )
    member.balance = locked.balance
    return redemption


def _locked_redemption(redemption: Redemption) -> tuple[Member, Redemption]:
    # The member first, as a reservation takes it: one order, no deadlock.
    member = member_lock(redemption.member_id)
    return member, Redemption.objects.select_for_update().get(pk=redemption.pk)


@transaction.atomic
def redemption_confirm(*, redemption: Redemption, actor: Principal) -> Redemption:
    actor.require("loyalty_redemption", "edit")
    _member, locked = _locked_redemption(redemption)
    if locked.status != Redemption.Status.RESERVED:
        raise RedemptionState(
            f"Only a reserved redemption can be confirmed; this one is {locked.status}.",
            field="status",
        )
    locked.status = Redemption.Status.CONFIRMED
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_at"])
    changes_record(
        object_api_name="loyalty_redemption",
        record_id=locked.pk,
        old={"status": Redemption.Status.RESERVED},
        new={"status": locked.status},
        user_id=actor.user_id,
    )
    return locked


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, actor: Principal, reason: str = "") -> Redemption:
    """Give the points back. Only a reservation can be cancelled: a confirmed reward was
    given (a correction after that is an adjustment, with its own right)."""
    actor.require("loyalty_redemption", "edit")
    member, locked = _locked_redemption(redemption)
    if locked.status != Redemption.Status.RESERVED:
        raise RedemptionState(
            f"Only a reserved redemption can be cancelled; this one is {locked.status}.",
            field="status",
        )
    spent = LedgerEntry.objects.get(redemption=locked, kind=Kind.REDEEM)
    expiries = [date.fromisoformat(t[2]) for t in spent.details.get("taken", []) if t[2]]
    try:
        with transaction.atomic():
            credit(
                member=member,
                kind=Kind.REVERSE,
                source=Source.REDEMPTION,
                points=-spent.points,
                actor=actor,
                expires_on=min(expiries) if expiries else None,
                reason=(reason or "").strip()[:500] or "Redemption cancelled",
                redemption=locked,
                reverses=spent,
                revenue=Decimal(0),
            )
    except IntegrityError as exc:  # the entry was already reversed
        raise RedemptionState("This redemption was already given back.", field="status") from exc
    locked.status = Redemption.Status.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["status", "cancelled_at"])
    changes_record(
        object_api_name="loyalty_redemption",
        record_id=locked.pk,
        old={"status": Redemption.Status.RESERVED},
        new={"status": locked.status},
        user_id=actor.user_id,
    )
    # Points that came back already past their date leave again at once.
    expire_due(member=member, on=today(), actor=actor)
    return locked
