"""The audit trail: one RecordChange row per changed field, written by every service."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from crm.models import RecordChange
from crm.services.common import json_safe

# Never copied into the trail in clear; the trail only says that they changed.
SENSITIVE_FIELDS = frozenset({"id_document_number", "id_document_expiry"})
MASK = "[encrypted]"


def _shown(field: str, value):
    if field in SENSITIVE_FIELDS and value not in (None, ""):
        return MASK
    return json_safe(value)


def record_values(instance: models.Model, fields: Iterable[str]) -> dict:
    return {name: getattr(instance, name) for name in fields}


def changes_record(
    *,
    object_api_name: str,
    record_id,
    old: dict,
    new: dict,
    user_id: int | None,
    action: str = RecordChange.Action.UPDATE,
) -> list[RecordChange]:
    """Write one row per field whose value differs between ``old`` and ``new``."""
    rows = [
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
    return RecordChange.objects.bulk_create(rows)


def event_record(
    *,
    object_api_name: str,
    record_id,
    action: str,
    user_id: int | None,
    field: str = "",
    old=None,
    new=None,
) -> RecordChange:
    """A whole-record event (creation, merge, erasure...) as a single row."""
    return RecordChange.objects.create(
        object_api_name=object_api_name,
        record_id=str(record_id),
        action=action,
        field=field,
        old=json_safe(old),
        new=json_safe(new),
        user_id=user_id,
    )
