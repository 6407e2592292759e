"""Enrolment and the member's status."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.loyalty.models import Member
from crm.loyalty.numbers import member_number_next
from crm.loyalty.services.ledger import today
from crm.loyalty.services.tiers import tier_qualified, tiers_ordered
from crm.models import Guest, RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict


@transaction.atomic
def member_enrol(*, guest: Guest, actor: Principal) -> Member:
    """Make a guest a member: a new number, the entry tier, no points yet. A guest is
    enrolled once (409 ``already_member``)."""
    actor.require("loyalty_account", "create")
    actor.require("guest", "view")
    if guest.erased_at is not None:
        raise ValidationError({"guest": "This guest's personal data was erased."})
    if Member.objects.filter(guest=guest).exists():
        raise Conflict(
            f"Guest {guest.pk} is already a member.", code="already_member", field="guest"
        )
    entry = tier_qualified(tiers_ordered(), _nothing())
    try:
        with transaction.atomic():
            member = Member.objects.create(
                guest=guest,
                number=member_number_next(),
                tier=entry,
                tier_since=today() if entry else None,
            )
    except IntegrityError as exc:  # a concurrent enrolment of the same guest won
        raise Conflict(
            f"Guest {guest.pk} is already a member.", code="already_member", field="guest"
        ) from exc
    changes_record(
        object_api_name="loyalty_account",
        record_id=member.pk,
        old={},
        new={"number": member.number, "guest": guest.pk, "tier": entry.key if entry else None},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return member


def _nothing():
    from decimal import Decimal

    from crm.loyalty.services.tiers import Qualifying

    return Qualifying(nights=0, stays=0, revenue=Decimal(0))


@transaction.atomic
def member_status_set(*, member: Member, status: str, actor: Principal) -> Member:
    """Suspend, close or reactivate a membership. Points stay; a member who is not
    active earns and redeems nothing."""
    actor.require("loyalty_account", "edit")
    if status not in Member.Status.values:
        raise ValidationError({"status": f"{status} is not a member status."})
    locked = Member.objects.select_for_update().get(pk=member.pk)
    old = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated"])
    changes_record(
        object_api_name="loyalty_account",
        record_id=locked.pk,
        old={"status": old},
        new={"status": status},
        user_id=actor.user_id,
    )
    return locked


@transaction.atomic
def member_guest_merged(*, survivor_id: int, merged_id: int, actor: Principal) -> Member | None:
    """A guest profile was merged into another (crm deleted the merged one): its
    membership follows. If the surviving guest was a member too, the two memberships
    become one: the merged member's ledger entries and redemptions move to the survivor's
    membership (entries are re-keyed, never rewritten), balances and lifetime points add
    up, the higher tier stays, and the emptied membership row goes. Runs whether or not
    the module is on: the data must stay whole either way."""
    moving = Member.objects.select_for_update().filter(guest_id=merged_id).first()
    if moving is None:
        return None
    staying = Member.objects.select_for_update().filter(guest_id=survivor_id).first()
    if staying is None:
        Member.objects.filter(pk=moving.pk).update(guest_id=survivor_id)
        changes_record(
            object_api_name="loyalty_account",
            record_id=moving.pk,
            old={"guest": merged_id},
            new={"guest": survivor_id},
            user_id=actor.user_id,
        )
        return Member.objects.get(pk=moving.pk)
    from crm.loyalty.models import LedgerEntry, Redemption

    LedgerEntry.objects.filter(member=moving).update(member=staying)
    Redemption.objects.filter(member=moving).update(member=staying)
    before = {"balance": staying.balance, "lifetime_points": staying.lifetime_points}
    staying.balance += moving.balance
    staying.lifetime_points += moving.lifetime_points
    if moving.tier is not None and (staying.tier is None or moving.tier.rank > staying.tier.rank):
        staying.tier, staying.tier_since = moving.tier, moving.tier_since
    staying.save(update_fields=["balance", "lifetime_points", "tier", "tier_since", "updated"])
    moving.delete()
    changes_record(
        object_api_name="loyalty_account",
        record_id=staying.pk,
        old={**before, "merged_member": None},
        new={
            "balance": staying.balance,
            "lifetime_points": staying.lifetime_points,
            "merged_member": moving.number,
        },
        user_id=actor.user_id,
    )
    return staying
