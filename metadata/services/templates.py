"""Metadata templates: a tenant's definitions as JSON, imported into another tenant with a
dry-run diff first. Import is idempotent: running it twice changes nothing the second time.

Format: ``{"format": "atrium-metadata", "version": 1, "modules": [...], "objects": [...],
"fields": [...]}`` with objects and fields as ``object_as_dict``/``field_as_dict`` give."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.definitions import snapshot
from metadata.models import FieldDefinition, ModuleDefinition, ObjectDefinition
from metadata.services.definitions import (
    custom_field_create,
    custom_field_update,
    field_as_dict,
    object_as_dict,
    object_definition_create,
    object_definition_update,
)
from metadata.services.modules import module_create
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

FORMAT = "atrium-metadata"
BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints"
FIELD_KEYS = ("required", "default", "unique", "rules", "choices", "sensitive", "section",
              "position", "filterable", "translations")  # fmt: skip


def metadata_export() -> dict:
    snapshot()
    return {
        "format": FORMAT,
        "version": 1,
        "modules": [
            {"key": m.key, "label": getattr(m, "label_en", "") or m.label}
            for m in ModuleDefinition.objects.order_by("key")
        ],
        "objects": [
            object_as_dict(o)
            for o in ObjectDefinition.objects.filter(is_builtin=False, archived_at=None)
        ],
        "fields": [
            field_as_dict(f)
            for f in FieldDefinition.objects.select_related("object")
            .filter(archived_at=None, object__archived_at=None)
            .order_by("object__api_name", "position", "api_name")
        ],
    }


def blueprint_names() -> list[str]:
    return sorted(p.stem for p in BLUEPRINTS.glob("*.json"))


def blueprint_load(name: str) -> dict:
    path = BLUEPRINTS / f"{name}.json"
    if name not in blueprint_names():
        raise ApplicationError(
            f"There is no template {name!r}; use one of {', '.join(blueprint_names())}.",
            code="unknown_template",
            field="template",
        )
    return json.loads(path.read_text())


def _label(item: dict, key: str = "label") -> str:
    return (item.get("translations") or {}).get("en", {}).get(key) or item.get(key) or ""


def metadata_import(*, data: dict, dry_run: bool = True, actor: Principal) -> dict:
    """The plan (and, unless ``dry_run``, its application in one transaction):
    every module, object and field with ``create``, ``update`` (with the changed keys),
    ``unchanged`` or ``conflict`` (a field whose type differs: change it separately)."""
    actor.require_admin("import definitions")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError({"format": f"Not an {FORMAT} document."})
    with transaction.atomic():
        plan = _plan(data)
        if not dry_run:
            if any(step["action"] == "conflict" for step in plan):
                raise ApplicationError(
                    "The template conflicts with this tenant's definitions; see the dry run.",
                    code="template_conflict",
                )
            _apply(data, plan, actor)
    return {
        "dry_run": dry_run,
        "steps": plan,
        "summary": {
            action: sum(1 for s in plan if s["action"] == action)
            for action in ("create", "update", "unchanged", "conflict")
        },
    }


def _plan(data: dict) -> list[dict]:
    snap = snapshot()
    steps: list[dict] = []
    modules = set(ModuleDefinition.objects.values_list("key", flat=True))
    for module in data.get("modules", []):
        steps.append(
            {
                "kind": "module",
                "target": module["key"],
                "action": "unchanged" if module["key"] in modules else "create",
            }
        )
    for obj in data.get("objects", []):
        current = snap.get(obj["api_name"])
        if current is None:
            steps.append({"kind": "object", "target": obj["api_name"], "action": "create"})
            continue
        now = object_as_dict(current.definition)
        changed = [k for k in ("icon", "color", "translations") if obj.get(k, now[k]) != now[k]]
        steps.append(
            {"kind": "object", "target": obj["api_name"],
             "action": "update" if changed else "unchanged", "changes": changed}
        )  # fmt: skip
    for field in data.get("fields", []):
        target = f"{field['object']}.{field['api_name']}"
        current_obj = snap.get(field["object"])
        current_field = current_obj.fields.get(field["api_name"]) if current_obj else None
        if current_field is None:
            steps.append({"kind": "field", "target": target, "action": "create"})
            continue
        now = field_as_dict(current_field)
        if now["type"] != field["type"] or now["reference_object"] != field.get(
            "reference_object", ""
        ):
            steps.append(
                {"kind": "field", "target": target, "action": "conflict",
                 "reason": f"type is {now['type']} here, {field['type']} in the template"}
            )  # fmt: skip
            continue
        changed = [k for k in FIELD_KEYS if k in field and field[k] != now[k]]
        steps.append(
            {"kind": "field", "target": target,
             "action": "update" if changed else "unchanged", "changes": changed}
        )  # fmt: skip
    return steps


def _apply(data: dict, plan: list[dict], actor: Principal) -> None:
    todo = {(s["kind"], s["target"]): s for s in plan}
    for module in data.get("modules", []):
        if todo[("module", module["key"])]["action"] == "create":
            module_create(key=module["key"], label=module["label"], actor=actor)
    for obj in data.get("objects", []):
        step = todo[("object", obj["api_name"])]
        if step["action"] == "create":
            object_definition_create(
                api_name=obj["api_name"],
                label=_label(obj),
                label_plural=_label(obj, "label_plural"),
                module=obj["module"],
                icon=obj.get("icon", ""),
                color=obj.get("color", ""),
                translations=obj.get("translations"),
                actor=actor,
            )
        elif step["action"] == "update":
            object_definition_update(
                api_name=obj["api_name"],
                translations=obj.get("translations"),
                actor=actor,
                **{k: obj[k] for k in step["changes"] if k in ("icon", "color")},
            )
    # Fields without references first: a reference may point to an object created above.
    for field in data.get("fields", []):
        step = todo[("field", f"{field['object']}.{field['api_name']}")]
        options = {k: field[k] for k in FIELD_KEYS if k in field}
        if step["action"] == "create":
            custom_field_create(
                object_api_name=field["object"],
                api_name=field["api_name"],
                label=_label(field),
                help_text=_label(field, "help_text"),
                type=field["type"],
                reference_object=field.get("reference_object", ""),
                actor=actor,
                **options,
            )
        elif step["action"] == "update":
            custom_field_update(
                object_api_name=field["object"],
                api_name=field["api_name"],
                actor=actor,
                **{k: options[k] for k in step["changes"]},
            )
