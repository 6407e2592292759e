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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from crm.loyalty.models import LedgerEntry, Member, Programme, Tier
from crm.loyalty.services.ledger import member_lock, months_later, programme_current, today
from crm.models import RecordChange
from crm.services.audit import changes_record
from crm.services.bulk import rows_update
from tenants.access.principal import Principal

TIER_CHANGED = "loyalty.tier_changed"
# Soft landing: a member keeps a tier at least this long before dropping one.
HOLD_MONTHS = 12


@dataclass(frozen=True)
class Qualifying:
    nights: int
    stays: int
    revenue: Decimal


def _window(*, programme: Programme, on: date) -> dict:
    """The earn entries a member qualifies with on ``on``: stays not reversed whose date
    falls in the programme's window."""
    return {
        "kind": LedgerEntry.Kind.EARN,
        "reservation_id__isnull": False,
        "reversed_by__isnull": True,
        "stay_on__gt": months_later(on, -programme.qualification_months),
        "stay_on__lte": on,
    }


def _qualifying(found: Mapping[str, Any]) -> Qualifying:
    return Qualifying(
        nights=int(found["nights"] or 0),
        stays=int(found["stays"] or 0),
        revenue=Decimal(found["revenue"] or 0),
    )


def qualifying_for(member: Member, *, programme: Programme, on: date) -> Qualifying:
    found = LedgerEntry.objects.filter(
        member=member, **_window(programme=programme, on=on)
    ).aggregate(nights=Sum("nights"), stays=Count("id"), revenue=Sum("revenue"))
    return _qualifying(found)


def qualifying_many(
    member_ids: list[int], *, programme: Programme, on: date
) -> dict[int, Qualifying]:
    """``qualifying_for`` of many members in one query (members with no stay in the
    window get zeros)."""
    rows = (
        LedgerEntry.objects.filter(member_id__in=member_ids, **_window(programme=programme, on=on))
        .values("member_id")
        .annotate(nights=Sum("nights"), stays=Count("id"), revenue=Sum("revenue"))
        .order_by()
    )
    found = {row["member_id"]: _qualifying(row) for row in rows}
    return {pk: found.get(pk, Qualifying(0, 0, Decimal(0))) for pk in member_ids}


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


def tier_upgrade_check(
    *, member: Member, actor: Principal, reason: str, programme: Programme | None = None
) -> None:
    """After a posting: refresh the counters of a locked member and upgrade at once if
    they reach a higher tier (never downgrades: that waits for the nightly review)."""
    programme = programme or programme_current()
    on = today()
    q = qualifying_for(member, programme=programme, on=on)
    member.save(update_fields=[*_counters_set(member, q), "updated"])
    best = tier_qualified(tiers_ordered(), q)
    if _rank(best) > _rank(member.tier):
        tier_change(member=member, tier=best, on=on, reason=reason, actor=actor)


def tier_upgrades_check(
    *,
    members: list[Member],
    programme: Programme,
    actor: Principal,
    reasons: dict[int, str],
    also_save: tuple[str, ...] = (),
) -> None:
    """``tier_upgrade_check`` for many locked members after a batch of postings: their
    counters in one query, saved with ``also_save`` in one update; the upgrades (few)
    one by one, each audited and announced."""
    if not members:
        return
    on = today()
    found = qualifying_many([m.pk for m in members], programme=programme, on=on)
    now = timezone.now()
    fields: list[str] = []
    for member in members:
        fields = _counters_set(member, found[member.pk])
        member.updated = now
    rows_update(Member, members, [*also_save, *fields, "updated"])
    tiers = tiers_ordered()
    for member in members:
        best = tier_qualified(tiers, found[member.pk])
        if _rank(best) > _rank(member.tier):
            tier_change(member=member, tier=best, on=on, reason=reasons[member.pk], actor=actor)


def _decide(
    *, current: Tier | None, since: date | None, best: Tier | None, tiers: list[Tier], on: date
) -> tuple[str, Tier | None]:
    """``("up" | "down" | "kept", the tier to hold)``: up at once to what the member
    reaches; down one tier at a time, and only after a year at the current tier."""
    if _rank(best) > _rank(current):
        return "up", best
    if _rank(best) == _rank(current) or current is None:
        return "kept", current
    if (since or date.min) > months_later(on, -HOLD_MONTHS):
        return "kept", current  # soft landing: a tier is kept a full year
    lower = [t for t in tiers if _rank(best) <= t.rank < current.rank]
    return "down", (lower[-1] if lower else best)  # never below what they reach


def member_review(
    *, member: Member, tiers: list[Tier], programme: Programme, on: date, actor: Principal
) -> str:
    """The nightly decision for one locked member: ``up``, ``down`` or ``kept``."""
    q = qualifying_for(member, programme=programme, on=on)
    member.save(update_fields=[*_counters_set(member, q), "updated"])
    outcome, tier = _decide(
        current=member.tier,
        since=member.tier_since,
        best=tier_qualified(tiers, q),
        tiers=tiers,
        on=on,
    )
    if outcome == "up":
        tier_change(member=member, tier=tier, on=on, reason="requalified", actor=actor)
    elif outcome == "down":
        tier_change(
            member=member,
            tier=tier,
            on=on,
            reason=(
                f"soft landing: {q.nights} nights, {q.stays} stays, {q.revenue} revenue in "
                f"{programme.qualification_months} months"
            ),
            actor=actor,
        )
    return outcome


def _window_sums(ids: list[int], *, programme: Programme, on: date) -> dict[int, Qualifying]:
    """The qualifying figures of many members in one query."""
    since = months_later(on, -programme.qualification_months)
    rows = (
        LedgerEntry.objects.filter(
            member_id__in=ids,
            kind=LedgerEntry.Kind.EARN,
            reservation_id__isnull=False,
            reversed_by__isnull=True,
            stay_on__gt=since,
            stay_on__lte=on,
        )
        .order_by()
        .values("member_id")
        .annotate(nights=Sum("nights"), stays=Count("id"), revenue=Sum("revenue"))
    )
    return {
        r["member_id"]: Qualifying(
            nights=int(r["nights"] or 0), stays=int(r["stays"] or 0), revenue=Decimal(r["revenue"])
        )
        for r in rows
    }


def _counters_refresh(rows: list[tuple[Member, Qualifying]]) -> None:
    """Store new counters of members whose tier stays, in one statement, each only if
    the member row did not change since it was read (a posting meanwhile has stored
    fresher figures under its lock)."""
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s::numeric, %s::timestamptz)"] * len(rows))
    params: list = []
    for member, q in rows:
        params += [member.pk, q.nights, q.stays, q.revenue, member.updated]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE loyalty_member m SET qualifying_nights = v.nights,
                qualifying_stays = v.stays, qualifying_revenue = v.revenue
            FROM (VALUES {values}) AS v(id, nights, stays, revenue, seen)
            WHERE m.id = v.id AND m.updated = v.seen
            """,  # noqa: S608 - placeholders only
            params,
        )


def tiers_review(*, actor: Principal, on: date | None = None, batch: int = 1000) -> dict[str, int]:
    """The nightly re-qualification of every active member. Each batch of members is
    judged from one query over the ledger; only members whose tier changes are locked
    and judged again in a transaction of their own, and the others' counters are stored
    in one statement. Safe to run twice: a second run the same day finds nothing to
    change (an upgrade is done, a downgrade waits another year)."""
    actor.require_admin("review tiers")
    on = on or today()
    tiers = tiers_ordered()
    by_id = {t.pk: t for t in tiers}
    programme = programme_current()
    nothing = Qualifying(nights=0, stays=0, revenue=Decimal(0))
    counts = {"up": 0, "down": 0, "kept": 0}
    last = 0
    while True:
        members = list(
            Member.objects.filter(status=Member.Status.ACTIVE, pk__gt=last)
            .order_by("pk")
            .only(
                "pk",
                "tier_id",
                "tier_since",
                "qualifying_nights",
                "qualifying_stays",
                "qualifying_revenue",
                "updated",
            )[:batch]
        )
        if not members:
            return counts
        sums = _window_sums([m.pk for m in members], programme=programme, on=on)
        stale: list[tuple[Member, Qualifying]] = []
        for member in members:
            q = sums.get(member.pk, nothing)
            outcome, _tier = _decide(
                current=by_id.get(member.tier_id) if member.tier_id else None,
                since=member.tier_since,
                best=tier_qualified(tiers, q),
                tiers=tiers,
                on=on,
            )
            if outcome != "kept":
                with transaction.atomic():
                    locked = member_lock(member.pk)
                    counts[
                        member_review(
                            member=locked, tiers=tiers, programme=programme, on=on, actor=actor
                        )
                    ] += 1
                continue
            counts["kept"] += 1
            held = (member.qualifying_nights, member.qualifying_stays, member.qualifying_revenue)
            if held != (q.nights, q.stays, q.revenue):
                stale.append((member, q))
        _counters_refresh(stale)
        last = members[-1].pk
