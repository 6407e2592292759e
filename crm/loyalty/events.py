"""How loyalty hears of stays and tells others of tier changes.

* crm's record events (every reservation write announces itself, imports and OTA pushes
  included) are the only way stays reach the programme: crm's core knows nothing of
  loyalty. A reservation event that can change what a stay earns (its status, amount,
  currency, dates or guest, its creation as checked out, its deletion) syncs the
  stay's points inside the writer's transaction, so the checkout and its points commit
  or roll back together.
* A guest merged into another takes its membership along (``guest.merged``).
* ``loyalty.tier_changed`` goes to the webhooks subscribed to it, built per subscriber
  like every event (only for those who may view loyalty members)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from metadata import events

log = logging.getLogger(__name__)

# Reservation fields whose change can change what a stay earns.
STAY_FIELDS = frozenset(
    {
        "status",
        "total_amount",
        "currency",
        "guest",
        "guest_id",
        "arrival",
        "departure",
    }
)


def webhook_event_types_register() -> None:
    from tenants.integrations.webhooks import webhook_event_types_register as register

    register(
        {
            "loyalty.tier_changed": "A loyalty member moved to another tier (with the reason)",
        }
    )


def _concerns_a_stay(event: events.RecordEvent) -> bool:
    if event.object_api_name != "reservation":
        return False
    if event.action == events.CREATED:
        return event.new.get("status") == "checked_out"
    if event.action == events.UPDATED:
        return bool(event.changed & STAY_FIELDS)
    return event.action == events.DELETED


def on_record_event(event: events.RecordEvent) -> None:
    if event.object_api_name == "guest" and event.action == events.MERGED:
        _guest_merged(event)
        return
    if event.object_api_name == "case_compensation":
        _compensation_approved(event)
        return
    if not _concerns_a_stay(event):
        return
    from tenants.context import current_schema

    if current_schema() in ("public", settings.TENANT_BASE_SCHEMA):
        return
    from crm.loyalty.apps import module_on

    if not module_on():
        return
    from crm.loyalty.services.stays import stay_sync
    from tenants.access.principal import Principal

    try:
        # A savepoint: a fault in the programme must not undo the checkout itself; the
        # nightly reconciliation posts what was missed.
        with transaction.atomic():
            stay_sync(
                reservation_id=int(event.record_id),
                actor=Principal.system("loyalty: reservation event"),
            )
    except Exception:
        log.exception("loyalty: stay %s could not be synced", event.record_id)


def _compensation_approved(event: events.RecordEvent) -> None:
    """Points given to a guest for a failure (the service desk announces an approved
    compensation): credited to the guest's membership, enrolling a guest who has none.
    Not in a savepoint: approval and credit commit or fail together."""
    new = event.new
    if new.get("status") != "approved" or new.get("kind") != "points" or not new.get("guest"):
        return
    from crm.loyalty.apps import module_on

    if not module_on():
        return
    from crm.loyalty.models import Member
    from crm.loyalty.services.ledger import points_adjust
    from crm.loyalty.services.members import member_enrol
    from crm.models import Guest
    from tenants.access.principal import Principal

    actor = Principal.system("loyalty: case compensation")
    member = Member.objects.filter(guest_id=int(new["guest"])).first()
    if member is None:
        member = member_enrol(guest=Guest.objects.get(pk=int(new["guest"])), actor=actor)
    points_adjust(
        member=member,
        points=int(new["points"]),
        reason=f"Compensation {event.record_id} for case {new.get('case')}",
        actor=actor,
    )


def _guest_merged(event: events.RecordEvent) -> None:
    """Not in a savepoint, and whether or not the module is on: the merged guest's row is
    gone, and a membership left pointing at it would fail the merge at commit."""
    merge = event.new.get("merge") or {}
    if not merge.get("survivor") or not merge.get("merged"):
        return
    from crm.loyalty.services.members import member_guest_merged
    from tenants.access.principal import Principal

    member_guest_merged(
        survivor_id=int(merge["survivor"]),
        merged_id=int(merge["merged"]),
        actor=Principal.system("loyalty: guests merged"),
    )


def tier_changed_publish(*, member, old, new, direction: str, reason: str) -> None:
    from tenants.integrations.webhooks import webhook_event_publish

    webhook_event_publish(
        event_type="loyalty.tier_changed",
        object_api_name="loyalty_account",
        data={
            "object": "loyalty_account",
            "id": str(member.pk),
            "member": member.number,
            "guest": member.guest_id,
            "old": old.key if old else None,
            "new": new.key if new else None,
            "direction": direction,
            "reason": reason,
        },
        reveals=("tier",),
    )
