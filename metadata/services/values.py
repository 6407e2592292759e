"""The one validation and coercion path for custom values, whatever the entry point."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from metadata.definitions import ObjectSnapshot, object_snapshot
from metadata.types import FieldValueError, coerce


def custom_values_clean(
    *,
    object_api_name: str,
    values: dict,
    existing: dict | None = None,
    partial: bool = False,
    record_id: int | None = None,
) -> dict:
    """The full ``custom``/``data`` dict to store for one record.

    ``values`` are the incoming values (``None`` clears a field). With ``partial`` the
    fields not in ``values`` keep their ``existing`` values (an update); without it,
    ``values`` is the whole set and required fields must be present (a create or a full
    replace), defaults filling the gaps. Values of archived fields already stored are
    kept untouched; writing one is refused. Raises ValidationError keyed by field api
    name, each message naming the rule."""
    snap = object_snapshot(object_api_name)
    if not isinstance(values, dict):
        raise ValidationError(
            {
                "custom": ValidationError(
                    "Custom values must be an object of field: value.", code="type"
                )
            }
        )
    errors: dict[str, list[ValidationError]] = {}

    def fail(name: str, message: str, code: str) -> None:
        errors.setdefault(name, []).append(ValidationError(message, code=code))

    existing = dict(existing or {})
    archived = {k for k, f in snap.fields.items() if f.archived_at is not None}
    active = snap.active_fields
    result: dict[str, Any] = (
        dict(existing) if partial else {k: v for k, v in existing.items() if k in archived}
    )

    for name, raw in values.items():
        field = active.get(name)
        if field is None:
            if name in archived:
                fail(name, f"{name} is archived and cannot be written.", "archived")
            else:
                fail(name, f"{object_api_name} has no field named {name!r}.", "unknown_field")
            continue
        if raw is None or raw == "" or raw == []:
            result.pop(name, None)
            continue
        try:
            result[name] = coerce(field, raw)
        except FieldValueError as exc:
            fail(name, f"{field.label} {exc.message}", exc.code)

    for name, field in active.items():
        if name in result or name in errors:
            continue
        if not partial and field.default is not None and name not in values:
            try:
                result[name] = coerce(field, field.default)
            except FieldValueError as exc:
                fail(name, f"{field.label}: default {exc.message}", exc.code)
                continue
        if field.required and result.get(name) is None:
            fail(name, f"{field.label} is required.", "required")

    _unique_check(snap, result, values, record_id, fail)
    if errors:
        raise ValidationError(errors)
    return result


def _unique_check(snap: ObjectSnapshot, result: dict, values: dict, record_id, fail) -> None:
    for name in values:
        field = snap.active_fields.get(name)
        if field is None or not field.unique or result.get(name) is None:
            continue
        model = snap.model()
        column = snap.values_column
        others = model._default_manager.filter(**{f"{column}__{name}": result[name]})
        if snap.builtin is None:
            others = others.filter(object_id=snap.definition.pk)
        if record_id is not None:
            others = others.exclude(pk=record_id)
        if others.exists():
            fail(name, f"{field.label} must be unique; another record has this value.", "unique")
