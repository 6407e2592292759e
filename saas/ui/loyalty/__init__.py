"""Screens of the loyalty module (``views``) and its panel on the guest profile: the
member's number, tier and balance, for readers of loyalty members while the module is
on, or the enrol button for a guest who is not a member."""

from __future__ import annotations

from typing import Any

from tenants.access.principal import Principal


def guest_loyalty_panel(*, actor: Principal, guest_id: int) -> dict[str, Any] | None:
    """What the guest profile shows of the membership, or None (module off, no right to
    view members, or the guest is not a member)."""
    from metadata.services.modules import module_enabled

    if not module_enabled("loyalty") or not actor.can("loyalty_account", "view"):
        return None
    from crm.loyalty.selectors import member_for_guest

    member = member_for_guest(actor=actor, guest_id=guest_id)
    if member is None:
        # Not a member: those who may enrol see the button.
        return {"enrol": True} if actor.can("loyalty_account", "create") else None
    return {
        "id": member.pk,
        "number": member.number,
        "status": member.get_status_display(),
        "active": member.status == member.Status.ACTIVE,
        "tier": str(member.tier.name) if member.tier else "",
        "balance": member.balance,
        "lifetime_points": member.lifetime_points,
    }
