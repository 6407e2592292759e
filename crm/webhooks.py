"""Record events of the CRM become webhook events for the hotel group's integrations.

Every object announces ``<object>.created``, ``<object>.updated`` and ``<object>.deleted``
(tenant-defined objects included, under their api name); guests also ``guest.merged``
and ``guest.erased``; reservations also ``reservation.status_changed``.
"""

from __future__ import annotations

from metadata import events
from tenants.integrations.webhooks import webhook_event_publish, webhook_event_types_register

BUILTIN_OBJECTS = ("guest", "company", "property", "room_type", "rate_plan", "reservation")


def event_types_register() -> None:
    types: dict[str, str] = {}
    for name in (*BUILTIN_OBJECTS, "activity"):
        label = name.replace("_", " ")
        article = "An" if label[0] in "aeiou" else "A"
        types[f"{name}.created"] = f"{article} {label} was created"
        types[f"{name}.updated"] = f"{article} {label} was changed"
        types[f"{name}.deleted"] = f"{article} {label} was deleted"
    types["guest.merged"] = "Two guest profiles were merged (sent for the survivor)"
    types["guest.erased"] = "A guest's personal data was erased on request"
    types["reservation.status_changed"] = "A reservation's status changed"
    webhook_event_types_register(types)


def on_record_event(event: events.RecordEvent) -> None:
    # The record's values travel as ``record`` and ``changes`` so that the webhook layer
    # masks them for each endpoint's subscriber; ``base`` only names the record.
    obj = event.object_api_name
    base = {"object": obj, "id": event.record_id, "user_id": event.user_id}
    if event.action == events.UPDATED:
        changes = {
            field: {"old": event.old.get(field), "new": event.new.get(field)}
            for field in sorted(event.changed)
        }
        webhook_event_publish(
            event_type=f"{obj}.updated", object_api_name=obj, data=base, changes=changes
        )
        if obj == "reservation" and "status" in event.changed:
            webhook_event_publish(
                event_type="reservation.status_changed",
                object_api_name=obj,
                data={**base, "old": event.old.get("status"), "new": event.new.get("status")},
                reveals=("status",),
            )
    elif event.action == events.CREATED:
        webhook_event_publish(
            event_type=f"{obj}.created", object_api_name=obj, data=base, record=event.new
        )
    elif event.action == events.DELETED:
        webhook_event_publish(
            event_type=f"{obj}.deleted", object_api_name=obj, data=base, record=event.old
        )
    elif event.action == events.MERGED:
        merge = event.new.get("merge") or {}
        webhook_event_publish(
            event_type=f"{obj}.merged",
            object_api_name=obj,
            data={**base, "survivor": merge.get("survivor"), "merged": merge.get("merged")},
        )
    elif event.action == events.ERASED:
        webhook_event_publish(event_type=f"{obj}.erased", object_api_name=obj, data=base)
