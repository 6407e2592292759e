"""Validation of what a workflow does, when it is saved. Every error names the setting it
concerns (``trigger.field``, ``conditions.all[0].value``, ``actions[2].template``)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from metadata.definitions import object_snapshot
from metadata.models import FieldType
from metadata.selectors.records import OPERATORS
from metadata.workflows import registry
from metadata.workflows.conditions import conditions_clean
from metadata.workflows.cron import cron_parse

TRIGGERS = (
    "record_created",
    "record_updated",
    "record_deleted",
    "date_relative",
    "schedule",
    "manual",
    "event",
)
EVENT_TRIGGERS = {
    "record_created": "created",
    "record_updated": "updated",
    "record_deleted": "deleted",
}
MAX_ACTIONS = 20
TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")  # with fullmatch


def _fail(path: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


def field_kind(object_api_name: str, name: str) -> str | None:
    """ "date", "datetime" or "value" for a field of the object; None if there is none."""
    snap = object_snapshot(object_api_name)
    bare = name[len("custom.") :] if name.startswith("custom.") else name
    custom = snap.active_fields.get(bare)
    if custom is not None:
        kinds = {FieldType.DATE.value: "date", FieldType.DATETIME.value: "datetime"}
        return kinds.get(str(custom.type), "value")
    if name.startswith("custom."):
        return None
    try:
        field = snap.model()._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.name in ("custom", "data") or getattr(field, "encrypted", False):
        return None
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    return "value"


def _field_check(object_api_name: str, name: Any, path: str) -> str:
    if not isinstance(name, str) or not name:
        raise _fail(path, "Name a field.", "required")
    if field_kind(object_api_name, name) is None:
        raise _fail(path, f"{object_api_name} has no field {name!r}.", "field")
    return name


def _value_test(raw: Any, path: str) -> dict:
    if not isinstance(raw, dict) or set(raw) - {"op", "value"}:
        raise _fail(path, 'Give {"op": ..., "value": ...}.')
    op = raw.get("op", "eq")
    if op not in OPERATORS:
        raise _fail(
            f"{path}.op", f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}.", "operator"
        )
    return {"op": op, "value": raw.get("value")}


def trigger_clean(object_api_name: str, trigger: Any) -> dict:
    if not isinstance(trigger, dict):
        raise _fail("trigger", 'Give the trigger as an object: {"type": ...}.', "required")
    kind = trigger.get("type")
    if kind not in TRIGGERS:
        raise _fail(
            "trigger.type",
            f"Unknown trigger {kind!r}; use one of {', '.join(TRIGGERS)}.",
            "trigger",
        )
    allowed = {
        "record_created": {"type"},
        "record_deleted": {"type"},
        "record_updated": {"type", "fields", "changes"},
        "date_relative": {"type", "field", "offset", "unit", "at", "yearly"},
        "schedule": {"type", "cron"},
        "manual": {"type"},
        "event": {"type", "event"},
    }[kind]
    unknown = sorted(set(trigger) - allowed)
    if unknown:
        raise _fail(f"trigger.{unknown[0]}", f"{unknown[0]} is not a setting of {kind} triggers.")
    if (kind in EVENT_TRIGGERS or kind in ("date_relative", "event")) and not object_api_name:
        raise _fail("object", f"A {kind} trigger needs an object.", "required")
    out: dict[str, Any] = {"type": kind}
    if kind == "event":
        name = trigger.get("event")
        known = {
            n: obj for n, (obj, _) in registry.event_triggers().items() if obj == object_api_name
        }
        if not isinstance(name, str) or name not in known:
            raise _fail(
                "trigger.event",
                f"Use one of the events of {object_api_name}: "
                f"{', '.join(sorted(known)) or 'none'}.",
                "event",
            )
        out["event"] = name
    if kind == "record_updated":
        fields = trigger.get("fields") or []
        if not isinstance(fields, list):
            raise _fail("trigger.fields", "Give a list of field names.")
        out["fields"] = [
            _field_check(object_api_name, f, f"trigger.fields[{i}]") for i, f in enumerate(fields)
        ]
        changes = trigger.get("changes") or []
        if not isinstance(changes, list):
            raise _fail("trigger.changes", "Give a list of changes.")
        out["changes"] = []
        for i, change in enumerate(changes):
            path = f"trigger.changes[{i}]"
            if not isinstance(change, dict) or set(change) - {"field", "from", "to"}:
                raise _fail(path, 'Give {"field": ..., "from": {...}, "to": {...}}.')
            item: dict[str, Any] = {
                "field": _field_check(object_api_name, change.get("field"), f"{path}.field")
            }
            for end in ("from", "to"):
                if end in change:
                    item[end] = _value_test(change[end], f"{path}.{end}")
            out["changes"].append(item)
    elif kind == "date_relative":
        name = _field_check(object_api_name, trigger.get("field"), "trigger.field")
        field_type = field_kind(object_api_name, name)
        if field_type not in ("date", "datetime"):
            raise _fail("trigger.field", f"{name} is not a date or date-time field.", "field")
        offset = trigger.get("offset", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 3660:
            raise _fail("trigger.offset", "The offset is a whole number (-3660 to 3660).")
        unit = trigger.get("unit", "days")
        if unit not in ("days", "hours"):
            raise _fail("trigger.unit", "The unit is days or hours.")
        at = trigger.get("at", "09:00")
        if not isinstance(at, str) or not TIME_RE.fullmatch(at):
            raise _fail("trigger.at", "Give the local time as HH:MM (e.g. 09:00).")
        yearly = trigger.get("yearly", False) is True
        if yearly and (field_type != "date" or unit != "days"):
            raise _fail("trigger.yearly", "Yearly triggers take a date field and days.")
        out.update(field=name, offset=offset, unit=unit, at=at, yearly=yearly)
    elif kind == "schedule":
        cron = trigger.get("cron")
        if not isinstance(cron, str):
            raise _fail("trigger.cron", "Give a cron expression such as '0 9 * * 1'.", "required")
        cron_parse(cron)
        out["cron"] = " ".join(cron.split())
    return out


def actions_clean(object_api_name: str, actions: Any) -> list[dict]:
    if not isinstance(actions, list) or not actions:
        raise _fail("actions", "Give a non-empty list of actions.", "required")
    if len(actions) > MAX_ACTIONS:
        raise _fail("actions", f"At most {MAX_ACTIONS} actions per workflow.", "too_many")
    known = registry.action_types()
    out = []
    for index, action in enumerate(actions):
        path = f"actions[{index}]"
        if not isinstance(action, dict):
            raise _fail(path, 'An action is an object: {"type": ...}.')
        kind = action.get("type")
        action_type = known.get(kind) if isinstance(kind, str) else None
        if action_type is None:
            raise _fail(
                f"{path}.type",
                f"Unknown action {kind!r}; use one of {', '.join(sorted(known))}.",
                "action",
            )
        if action_type.objects and object_api_name not in action_type.objects:
            raise _fail(
                f"{path}.type",
                f"{kind} works on {', '.join(action_type.objects)} "
                f"records, not {object_api_name or 'no record'}.",
                "object",
            )
        config = {k: v for k, v in action.items() if k != "type"}
        try:
            cleaned = action_type.validate(config, object_api_name)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError(
                    {f"{path}.{key}": errors for key, errors in exc.error_dict.items()}
                ) from None
            raise ValidationError({path: exc.error_list}) from None
        out.append({"type": kind, **cleaned})
    return out


def definition_clean(
    *, object_api_name: str, trigger: Any, conditions: Any, actions: Any
) -> tuple[dict, dict, list[dict]]:
    if object_api_name:
        try:
            object_snapshot(object_api_name)
        except Exception:
            raise _fail(
                "object", f"There is no object named {object_api_name!r}.", "object"
            ) from None
    clean_trigger = trigger_clean(object_api_name, trigger)
    clean_conditions = conditions_clean(
        object_api_name=object_api_name,
        tree=conditions,
        deleted=clean_trigger["type"] == "record_deleted",
    )
    return clean_trigger, clean_conditions, actions_clean(object_api_name, actions)
