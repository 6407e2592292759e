"""The tier engine.

A member qualifies for the highest tier any of whose thresholds (nights, stays,
base-currency revenue) their stays over the programme's window reach; the window is a
sum over the ledger's earn entries that were not reversed (their ``stay_on`` date).

* A stay that crosses a threshold upgrades at once (``tier_upgrade_check``, called when
  a stay is posted).
* The nightly review (``tiers_review``) upgrades too, and downgrades with a soft landing:
  one tier at a time, and only when the member has held the current tier for a year.

Each change is written to the audit trail and published as ``loyalty.tier_changed``
(webhooks), with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum

from crm.loyalty.models import LedgerEntry, Member, Programme, Tier
from crm.loyalty.services.ledger import member_lock, months_later, programme_current, today
from crm.models import RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal

TIER_CHANGED = "loyalty.tier_changed"
# Soft landing: a member keeps a tier at least this long before dropping one.
HOLD_MONTHS = 12


@dataclass(frozen=True)
class Qualifying:
    nights: int
    stays: int
    revenue: Decimal


def qualifying_for(member: Member, *, programme: Programme, on: date) -> Qualifying:
    since = months_later(on, -programme.qualification_months)
    found = LedgerEntry.objects.filter(
        member=member,
        kind=LedgerEntry.Kind.EARN,
        reservation_id__isnull=False,
        reversed_by__isnull=True,
        stay_on__gt=since,
        stay_on__lte=on,
    ).aggregate(nights=Sum("nights"), stays=Count("id"), revenue=Sum("revenue"))
    return Qualifying(
        nights=int(found["nights"] or 0),
        stays=int(found["stays"] or 0),
        revenue=Decimal(found["revenue"] or 0),
    )


def tiers_ordered() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def tier_qualified(tiers: list[Tier], q: Qualifying) -> Tier | None:
    """The highest tier ``q`` reaches (tiers by rank, lowest first)."""
    for tier in reversed(tiers):
        if tier.is_entry:
            return tier
        if (
            (tier.min_nights and q.nights >= tier.min_nights)
            or (tier.min_stays and q.stays >= tier.min_stays)
            or (tier.min_revenue and q.revenue >= tier.min_revenue)
        ):
            return tier
    return None


def _rank(tier: Tier | None) -> int:
    return -1 if tier is None else tier.rank


def _counters_set(member: Member, q: Qualifying) -> list[str]:
    member.qualifying_nights = q.nights
    member.qualifying_stays = q.stays
    member.qualifying_revenue = q.revenue
    return ["qualifying_nights", "qualifying_stays", "qualifying_revenue"]


def tier_change(
    *, member: Member, tier: Tier | None, on: date, reason: str, actor: Principal
) -> None:
    """Move a locked member to ``tier``: audit row, record event, webhook event."""
    old = member.tier
    if _rank(old) == _rank(tier):
        return
    member.tier = tier
    member.tier_since = on
    member.save(update_fields=["tier", "tier_since", "updated"])
    changes_record(
        object_api_name="loyalty_account",
        record_id=member.pk,
        old={"tier": old.key if old else None},
        new={"tier": tier.key if tier else None},
        user_id=actor.user_id,
        action=RecordChange.Action.UPDATE,
    )
    from crm.loyalty.events import tier_changed_publish

    tier_changed_publish(
        member=member,
        old=old,
        new=tier,
        direction="up" if _rank(tier) > _rank(old) else "down",
        reason=reason,
    )


def tier_upgrade_check(*, member: Member, actor: Principal, reason: str) -> None:
    """After a posting: refresh the counters of a locked member and upgrade at once if
    they reach a higher tier (never downgrades: that waits for the nightly review)."""
    programme = programme_current()
    on = today()
    q = qualifying_for(member, programme=programme, on=on)
    member.save(update_fields=[*_counters_set(member, q), "updated"])
    best = tier_qualified(tiers_ordered(), q)
    if _rank(best) > _rank(member.tier):
        tier_change(member=member, tier=best, on=on, reason=reason, actor=actor)


def member_review(
    *, member: Member, tiers: list[Tier], programme: Programme, on: date, actor: Principal
) -> str:
    """The nightly decision for one locked member: ``up``, ``down`` or ``kept``."""
    q = qualifying_for(member, programme=programme, on=on)
    member.save(update_fields=[*_counters_set(member, q), "updated"])
    best = tier_qualified(tiers, q)
    current = member.tier
    if _rank(best) > _rank(current):
        tier_change(member=member, tier=best, on=on, reason="requalified", actor=actor)
        return "up"
    if _rank(best) == _rank(current) or current is None:
        return "kept"
    held_since = member.tier_since or date.min
    if held_since > months_later(on, -HOLD_MONTHS):
        return "kept"  # soft landing: a tier is kept a full year
    lower = [t for t in tiers if _rank(best) <= t.rank < current.rank]
    step = lower[-1] if lower else best  # one tier down, never below what they reach
    tier_change(
        member=member,
        tier=step,
        on=on,
        reason=(
            f"soft landing: {q.nights} nights, {q.stays} stays, {q.revenue} revenue in "
            f"{programme.qualification_months} months"
        ),
        actor=actor,
    )
    return "down"


def tiers_review(*, actor: Principal, on: date | None = None, batch: int = 500) -> dict[str, int]:
    """The nightly re-qualification of every active member, one short transaction each.
    Safe to run twice: a second run the same day finds nothing to change (an upgrade is
    done, a downgrade waits another year)."""
    actor.require_admin("review tiers")
    on = on or today()
    tiers = tiers_ordered()
    programme = programme_current()
    counts = {"up": 0, "down": 0, "kept": 0}
    last = 0
    while True:
        ids = list(
            Member.objects.filter(status=Member.Status.ACTIVE, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return counts
        for member_id in ids:
            with transaction.atomic():
                member = member_lock(member_id)
                outcome = member_review(
                    member=member, tiers=tiers, programme=programme, on=on, actor=actor
                )
                counts[outcome] += 1
        last = ids[-1]
