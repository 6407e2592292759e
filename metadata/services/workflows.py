"""Workflow definitions: create, change (a new version when what it does changes),
templates. Each change is one transaction with its MetadataChange row and a new metadata
version, like any other definition."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.definitions import object_snapshot, version_bump
from metadata.models import Workflow, WorkflowVersion
from metadata.services.definitions import (
    _apply_translations,
    _english_default,
    _module_check,
    _translations_of,
    change_record,
)
from metadata.workflows.definition import definition_clean
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

# Always used with fullmatch: with match, "$" also matches before a final newline.
KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,59}")
TEMPLATE_FORMAT = "atrium-workflows"
TEMPLATES = Path(__file__).resolve().parent.parent / "blueprints" / "workflows"
DEFINITION = ("trigger", "conditions", "actions")


def workflow_as_dict(workflow: Workflow) -> dict[str, Any]:
    version = workflow.current_version
    return {
        "id": workflow.pk,
        "key": workflow.key,
        "name": workflow.name,
        "translations": _translations_of(workflow, ("name",)),
        "description": workflow.description,
        "object": workflow.object_api_name,
        "owner_module": workflow.owner_module,
        "enabled": workflow.enabled,
        "template": workflow.template,
        "version": version.number if version else None,
        "trigger": version.trigger if version else None,
        "conditions": version.conditions if version else {},
        "actions": version.actions if version else [],
        "created": workflow.created,
        "updated": workflow.updated,
    }


def _name_split(name: Any, translations: dict | None) -> tuple[str, dict]:
    if translations is not None and not (
        isinstance(translations, dict)
        and all(isinstance(k, str) and isinstance(v, dict) for k, v in translations.items())
    ):
        raise ValidationError(
            {"translations": 'Give {"<language>": {"name": "..."}} for each language.'}
        )
    translations = {k: dict(v) for k, v in (translations or {}).items()}
    if isinstance(name, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in name.items()):
            raise ValidationError({"name": "Give the name as text per language."})
        for lang, text in name.items():
            translations.setdefault(lang, {})["name"] = text
        name = name.get("en") or next((v for v in name.values() if v), "")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError(
            {"name": ValidationError("Give a name of 1-200 characters.", code="required")}
        )
    return name.strip(), translations


def _owner_module(owner_module: str, object_api_name: str) -> str:
    module = owner_module or (
        object_snapshot(object_api_name).definition.module if object_api_name else ""
    )
    if not module:
        raise ValidationError(
            {
                "owner_module": ValidationError(
                    "Name the module that owns this workflow.", code="required"
                )
            }
        )
    try:
        _module_check(module)
    except ValidationError as exc:
        raise ValidationError({"owner_module": exc.error_dict["module"]}) from None
    return module


@transaction.atomic
def workflow_create(
    *,
    key: str,
    name: Any,
    trigger: Any,
    actions: Any,
    object_api_name: str = "",
    conditions: Any = None,
    owner_module: str = "",
    enabled: bool = True,
    description: str = "",
    translations: dict | None = None,
    template: str = "",
    actor: Principal,
) -> Workflow:
    actor.require_admin("change workflows")
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise ValidationError(
            {
                "key": ValidationError(
                    "Use 2-60 lower-case letters, digits and underscores, starting with a letter.",
                    code="key",
                )
            }
        )
    if Workflow.objects.filter(key=key).exists():
        raise ValidationError({"key": ValidationError(f"{key} is already taken.", code="taken")})
    if not isinstance(enabled, bool):
        raise ValidationError({"enabled": "enabled is true or false."})
    name, translations = _name_split(name, translations)
    trigger, conditions, actions = definition_clean(
        object_api_name=object_api_name or "",
        trigger=trigger,
        conditions=conditions,
        actions=actions,
    )
    workflow = Workflow(
        key=key,
        name=name,
        description=description or "",
        object_api_name=object_api_name or "",
        trigger_type=trigger["type"],
        owner_module=_owner_module(owner_module, object_api_name),
        enabled=enabled,
        template=template,
        created_by_id=actor.user_id,
    )
    _apply_translations(workflow, translations, ("name",))
    _english_default(workflow, name=name)
    workflow.save()
    workflow.current_version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=1,
        trigger=trigger,
        conditions=conditions,
        actions=actions,
        created_by_id=actor.user_id,
    )
    workflow.save(update_fields=["current_version"])
    version_bump()  # record writes look workflows up in a cache keyed by this version
    change_record(
        action="workflow.create",
        target=f"workflow:{key}",
        before=None,
        after=_json(workflow_as_dict(workflow)),
        actor=actor,
    )
    return workflow


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    name: Any = None,
    description: str | None = None,
    enabled: bool | None = None,
    owner_module: str | None = None,
    trigger: Any = None,
    conditions: Any = None,
    actions: Any = None,
    translations: dict | None = None,
    actor: Principal,
) -> Workflow:
    """Change a workflow. A change of trigger, conditions or actions writes a new version;
    runs already started keep the version they started with."""
    actor.require_admin("change workflows")
    workflow = (
        Workflow.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=workflow.pk)
    )
    before = _json(workflow_as_dict(workflow))
    if name is not None or translations:
        text, translations = _name_split(name if name is not None else workflow.name, translations)
        workflow.name = text
        _apply_translations(workflow, translations, ("name",))
        if isinstance(name, str) or (isinstance(name, dict) and "en" in name):
            workflow.name_en = text  # type: ignore[attr-defined]
    if description is not None:
        workflow.description = description
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise ValidationError({"enabled": "enabled is true or false."})
        workflow.enabled = enabled
    if owner_module is not None:
        workflow.owner_module = _owner_module(owner_module, workflow.object_api_name)
    current = workflow.current_version
    if current is not None and any(v is not None for v in (trigger, conditions, actions)):
        new = definition_clean(
            object_api_name=workflow.object_api_name,
            trigger=trigger if trigger is not None else current.trigger,
            conditions=conditions if conditions is not None else current.conditions,
            actions=actions if actions is not None else current.actions,
        )
        if current is None or new != (current.trigger, current.conditions, current.actions):
            workflow.current_version = WorkflowVersion.objects.create(
                workflow=workflow,
                number=(current.number if current else 0) + 1,
                trigger=new[0],
                conditions=new[1],
                actions=new[2],
                created_by_id=actor.user_id,
            )
            workflow.trigger_type = new[0]["type"]
    workflow.save()
    version_bump()
    after = _json(workflow_as_dict(workflow))
    if after != before:
        change_record(
            action="workflow.update",
            target=f"workflow:{workflow.key}",
            before=before,
            after=after,
            actor=actor,
        )
    return workflow


# --- templates ----------------------------------------------------------------------------


def workflow_template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.json"))


def workflow_template_load(name: str) -> dict:
    if name not in workflow_template_names():
        raise ApplicationError(
            f"There is no workflow template {name!r}; use one of "
            f"{', '.join(workflow_template_names())}.",
            code="unknown_template",
            field="template",
        )
    return json.loads((TEMPLATES / f"{name}.json").read_text())


def workflow_templates() -> list[dict]:
    out = []
    for name in workflow_template_names():
        data = workflow_template_load(name)
        for item in data["workflows"]:
            out.append(
                {
                    "template": name,
                    "key": item["key"],
                    "name": item["name"],
                    "object": item.get("object", ""),
                    "trigger": item["trigger"],
                }
            )
    return out


def workflow_template_import(
    *, name: str, dry_run: bool = True, enabled: bool = False, actor: Principal
) -> dict:
    """Plan (and unless ``dry_run`` apply) a template: each workflow is created, updated
    (a new version) or unchanged. Imported workflows start switched off unless
    ``enabled``: a hotel reviews the texts first. Running it twice changes nothing."""
    actor.require_admin("change workflows")
    data = workflow_template_load(name)
    if data.get("format") != TEMPLATE_FORMAT:
        raise ValidationError({"template": f"{name} is not an {TEMPLATE_FORMAT} document."})
    steps = []
    with transaction.atomic():
        for item in data["workflows"]:
            existing = (
                Workflow.objects.filter(key=item["key"]).select_related("current_version").first()
            )
            definition = definition_clean(
                object_api_name=item.get("object", ""),
                trigger=item["trigger"],
                conditions=item.get("conditions"),
                actions=item["actions"],
            )
            if existing is None:
                action = "create"
            else:
                v = existing.current_version
                action = (
                    "unchanged"
                    if v and definition == (v.trigger, v.conditions, v.actions)
                    else "update"
                )
            steps.append({"key": item["key"], "action": action})
            if dry_run or action == "unchanged":
                continue
            if action == "create":
                workflow_create(
                    key=item["key"],
                    name=item["name"],
                    object_api_name=item.get("object", ""),
                    trigger=item["trigger"],
                    conditions=item.get("conditions"),
                    actions=item["actions"],
                    owner_module=item.get("owner_module", ""),
                    description=item.get("description", ""),
                    enabled=enabled,
                    template=name,
                    actor=actor,
                )
            elif existing is not None:
                workflow_update(
                    workflow=existing,
                    trigger=item["trigger"],
                    conditions=item.get("conditions") or {},
                    actions=item["actions"],
                    actor=actor,
                )
    return {"template": name, "dry_run": dry_run, "steps": steps}
