"""The audit trail: one RecordChange row per changed field, written by every service."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from crm.models import RecordChange
from crm.services.common import json_safe
from metadata import events

# How each audit action is announced to webhooks and workflows.
_EVENT_ACTIONS: dict[str, str] = {
    RecordChange.Action.CREATE: events.CREATED,
    RecordChange.Action.UPDATE: events.UPDATED,
    RecordChange.Action.DELETE: events.DELETED,
    RecordChange.Action.MERGE: events.MERGED,
    RecordChange.Action.UNMERGE: events.UPDATED,
    RecordChange.Action.ERASE: events.ERASED,
}

# Never copied into the trail in clear; the trail only says that they changed.
SENSITIVE_FIELDS = frozenset({"id_document_number", "id_document_expiry"})
MASK = "[encrypted]"


def _shown(field: str, value):
    if field in SENSITIVE_FIELDS and value not in (None, ""):
        return MASK
    return json_safe(value)


def record_values(instance: models.Model, fields: Iterable[str]) -> dict:
    return {name: getattr(instance, name) for name in fields}


def change_rows(
    *,
    object_api_name: str,
    record_id,
    old: dict,
    new: dict,
    user_id: int | None,
    action: str = RecordChange.Action.UPDATE,
) -> list[RecordChange]:
    """The audit rows of one write (not saved): a creation is one row with all values,
    an update one row per changed field."""
    if action == RecordChange.Action.CREATE:
        return [
            RecordChange(
                object_api_name=object_api_name,
                record_id=str(record_id),
                action=action,
                field="",
                old=None,
                new={name: _shown(name, value) for name, value in sorted(new.items())},
                user_id=user_id,
            )
        ]
    return [
        RecordChange(
            object_api_name=object_api_name,
            record_id=str(record_id),
            action=action,
            field=field,
            old=_shown(field, old.get(field)),
            new=_shown(field, new.get(field)),
            user_id=user_id,
        )
        for field in sorted(set(old) | set(new))
        if json_safe(old.get(field)) != json_safe(new.get(field))
    ]


def changes_record(
    *,
    object_api_name: str,
    record_id,
    old: dict,
    new: dict,
    user_id: int | None,
    action: str = RecordChange.Action.UPDATE,
) -> list[RecordChange]:
    """Write one row per field whose value differs between ``old`` and ``new``; a
    creation is one row holding every value (``field`` empty)."""
    rows = change_rows(
        object_api_name=object_api_name,
        record_id=record_id,
        old=old,
        new=new,
        user_id=user_id,
        action=action,
    )
    saved = RecordChange.objects.bulk_create(rows)
    if action in _EVENT_ACTIONS and (rows or action != RecordChange.Action.UPDATE):
        events.record_event_emit(
            object_api_name=object_api_name,
            action=_EVENT_ACTIONS[action],
            record_id=record_id,
            old={k: _shown(k, v) for k, v in old.items()},
            new={k: _shown(k, v) for k, v in new.items()},
            user_id=user_id,
        )
    return saved


def event_record(
    *,
    object_api_name: str,
    record_id,
    action: str,
    user_id: int | None,
    field: str = "",
    old=None,
    new=None,
    announce: bool = True,
) -> RecordChange:
    """A whole-record event (creation, merge, erasure...) as a single row."""
    if announce and action in _EVENT_ACTIONS:
        events.record_event_emit(
            object_api_name=object_api_name,
            action=_EVENT_ACTIONS[action],
            record_id=record_id,
            old={field: _shown(field, old)} if field else {},
            new={field: _shown(field, new)} if field else {},
            user_id=user_id,
        )
    return RecordChange.objects.create(
        object_api_name=object_api_name,
        record_id=str(record_id),
        action=action,
        field=field,
        old=json_safe(old),
        new=json_safe(new),
        user_id=user_id,
    )
