"""The workflow builder (tenant admin settings): the list, create and edit (each change
of what a workflow does is a new version), version history, a dry run against a record,
run now, the run log, and the hotel templates.

Saving calls the services the API calls (``workflow_create`` / ``workflow_update``), so
the rules and messages are the API's, shown next to the input they concern."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from metadata.definitions import snapshot
from metadata.models import FieldType, WorkflowRun, WorkflowRunStep
from metadata.selectors.definitions import objects_list
from metadata.selectors.records import records_queryset
from metadata.selectors.workflows import workflow_get, workflow_runs, workflows_list
from metadata.services.modules import modules_available
from metadata.services.workflows import (
    workflow_create,
    workflow_template_import,
    workflow_template_names,
    workflow_templates,
    workflow_update,
)
from metadata.workflows.engine import workflow_dry_run, workflow_run_manual
from metadata.workflows.registry import action_types, relations_of
from saas.ui.designer import admin_require
from saas.ui.errors import errors_by_field
from saas.ui.i18n import tenant_languages
from saas.ui.workflow_form import (
    ACTION_LABELS,
    TRIGGER_LABELS,
    WorkflowForm,
    operator_choices,
    trigger_choices,
)
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, NotFound

RECENT_RECORDS = 30


def _messages_of(exc: ValidationError | ApplicationError) -> list[str]:
    return [m for texts in errors_by_field(exc).values() for m in texts]


# --- the list and the templates -------------------------------------------------------


@login_required
def workflow_list(request):
    admin_require(request.user)
    plan = None
    if request.method == "POST":
        name = request.POST.get("template", "")
        apply = request.POST.get("mode") == "import"
        try:
            plan = workflow_template_import(
                name=name,
                dry_run=not apply,
                enabled=request.POST.get("enabled") == "1",
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            for text in _messages_of(exc):
                messages.error(request, text)
            return redirect("settings_workflows")
        if apply:
            created = sum(1 for s in plan["steps"] if s["action"] != "unchanged")
            messages.success(
                request,
                _("Template %(name)s imported: %(count)s workflows created or updated.")
                % {"name": name, "count": created},
            )
            return redirect("settings_workflows")
    labels = {o["api_name"]: o["label"] for o in objects_list(get_language(), enabled_only=False)}
    rows = [
        {
            "workflow": w,
            "object": labels.get(w.object_api_name, w.object_api_name),
            "trigger": TRIGGER_LABELS.get(w.trigger_type, w.trigger_type),
            "version": w.current_version.number if w.current_version else None,
        }
        for w in workflows_list()
    ]
    templates: dict[str, list[dict]] = {}
    for item in workflow_templates():
        name = item["name"]
        label = (
            name.get(get_language() or "en") or name.get("en") if isinstance(name, dict) else name
        )
        templates.setdefault(item["template"], []).append({**item, "label": label})
    return render(
        request,
        "settings/workflows.html",
        {
            "rows": rows,
            "templates": [(n, templates.get(n, [])) for n in workflow_template_names()],
            "plan": plan,
        },
    )


# --- create and edit ------------------------------------------------------------------


def _field_names(object_api_name: str) -> list[str]:
    """Suggestions for field inputs: the object's own fields, its custom fields, and the
    fields of related records (``guest.vip_level``)."""
    snap = snapshot().get(object_api_name) if object_api_name else None
    if snap is None:
        return []
    names = [
        f.name
        for f in snap.model()._meta.concrete_fields
        if f.name not in ("id", "custom", "data") and not getattr(f, "encrypted", False)
    ]
    names += [f"custom.{name}" for name in snap.active_fields]
    for relation in relations_of(object_api_name):
        target = snapshot().get(relation.target)
        if target is None:
            continue
        names += [
            f"{relation.name}.{f.name}"
            for f in target.model()._meta.concrete_fields
            if f.name not in ("id", "custom", "data") and not getattr(f, "encrypted", False)
        ]
    return names


def _date_fields(object_api_name: str) -> list[str]:
    snap = snapshot().get(object_api_name) if object_api_name else None
    if snap is None:
        return []
    from django.db import models

    names = [
        f.name
        for f in snap.model()._meta.concrete_fields
        if isinstance(f, models.DateField) and f.name not in ("created", "updated")
    ]
    names += [
        f"custom.{name}"
        for name, f in snap.active_fields.items()
        if str(f.type) in (FieldType.DATE, FieldType.DATETIME)
    ]
    return names


def _builder_context(form: WorkflowForm) -> dict[str, Any]:
    modules = modules_available()
    objects = [
        (o["api_name"], o["label"])
        for o in objects_list(get_language(), enabled_only=False)
        if modules.get(o["module"], False)
    ]
    available = action_types()
    return {
        "form": form,
        "objects": objects,
        "modules": sorted(k for k, on in modules.items() if on),
        "triggers": trigger_choices(),
        "operators": operator_choices(),
        "action_choices": [(k, str(ACTION_LABELS.get(k, a.label))) for k, a in available.items()],
        "field_names": _field_names(form.object),
        "date_fields": _date_fields(form.object),
        "languages": form.languages,
        "joins": [("all", _("all of these (AND)")), ("any", _("any of these (OR)"))],
        "units": [("days", _("Days")), ("hours", _("Hours"))],
    }


def _builder(request, workflow=None):
    admin_require(request.user)
    form = WorkflowForm(
        languages=tenant_languages(),
        workflow=workflow,
        data=request.POST if request.method == "POST" else None,
    )
    if workflow is not None:
        form.key, form.object = workflow.key, workflow.object_api_name
    if request.method == "POST":
        command = request.POST.get("edit", "")
        if command:
            form.edit(command)  # add/remove a row; nothing is saved yet
        else:
            saved = _save(request, form, workflow)
            if saved is not None:
                return redirect("settings_workflow", workflow_id=saved.pk)
    context = _builder_context(form)
    context["workflow"] = workflow
    if workflow is not None:
        context["versions"] = workflow.versions.order_by("-number")
    return render(
        request,
        "settings/workflow_form.html",
        context,
        status=400 if form.has_errors else 200,
    )


def _save(request, form: WorkflowForm, workflow):
    try:
        definition = form.definition()
    except ValueError as exc:
        input_name, message = exc.args
        form.errors.setdefault(input_name, []).append(message)
        return None
    try:
        if workflow is None:
            saved = workflow_create(
                key=form.key,
                name=form.name(),
                object_api_name=form.object,
                owner_module=form.owner_module,
                enabled=form.enabled,
                actor=Principal.from_request(request),
                **definition,
            )
            messages.success(request, _("Workflow created."))
        else:
            before = workflow.current_version_id
            saved = workflow_update(
                workflow=workflow,
                name=form.name(),
                owner_module=form.owner_module or None,
                enabled=form.enabled,
                actor=Principal.from_request(request),
                **definition,
            )
            if saved.current_version_id != before:
                messages.success(
                    request,
                    _("Workflow saved as version %(number)s.")
                    % {"number": saved.current_version.number if saved.current_version else ""},
                )
            else:
                messages.success(request, _("Workflow saved."))
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        form.add_errors(errors_by_field(exc))
        return None
    return saved


def _workflow(workflow_id: int):
    """The workflow of the URL, or the 404 page (the selector's NotFound is the API's
    error; here it would be a server error)."""
    try:
        return workflow_get(ref=str(workflow_id))
    except NotFound:
        raise Http404(_("There is no such workflow.")) from None


@login_required
def workflow_create_view(request):
    return _builder(request)


@login_required
def workflow_edit_view(request, workflow_id: int):
    admin_require(request.user)
    return _builder(request, _workflow(workflow_id))


# --- detail: versions, dry run, run now, run log -------------------------------------


def _recent_records(object_api_name: str) -> list[tuple[str, str]]:
    if not object_api_name:
        return []
    records = records_queryset(object_api_name=object_api_name).order_by("-pk")[:RECENT_RECORDS]
    return [(str(r.pk), str(r)) for r in records]


def _plain(detail: Any) -> list[tuple[str, str]]:
    """A step's detail as (key, text) rows."""
    if not isinstance(detail, dict):
        return [("", str(detail))]
    out = []
    for key, value in detail.items():
        if value in (None, "", [], {}):
            continue
        text = (
            json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, dict | list)
            else str(value)
        )
        out.append((key, text))
    return out


def _steps(steps: list[dict]) -> list[dict]:
    labels = {k: str(v) for k, v in ACTION_LABELS.items()}
    labels["conditions"] = _("Conditions")
    statuses = dict(WorkflowRunStep.Status.choices)
    return [
        {
            **step,
            "status_label": step.get("status_label")
            or statuses.get(step["status"], step["status"]),
            "label": labels.get(step["action"], step["action"]),
            "rows": _plain(step.get("detail")),
        }
        for step in steps
    ]


@login_required
def workflow_detail(request, workflow_id: int):
    admin_require(request.user)
    workflow = _workflow(workflow_id)
    report, errors, status = None, {}, 200
    record_id = (request.POST.get("record_id") or "").strip()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "dry_run":
                report = workflow_dry_run(
                    workflow=workflow, record_id=record_id, actor=Principal.from_request(request)
                )
                report["steps"] = _steps(report["steps"])
            elif action == "run":
                if workflow.object_api_name and not record_id:
                    raise ValidationError(
                        {"record_id": ValidationError(_("Choose a record."), code="required")}
                    )
                runs = workflow_run_manual(
                    workflow=workflow,
                    record_ids=[record_id] if workflow.object_api_name else None,
                    actor=Principal.from_request(request),
                )
                messages.success(
                    request,
                    _("Run started: %(count)s run queued. Its steps appear in the run log.")
                    % {"count": len(runs)},
                )
                return redirect("settings_workflow", workflow_id=workflow.pk)
        except (ValidationError, ApplicationError) as exc:
            errors = errors_by_field(exc)
            status = 400
    run_status = request.GET.get("status", "")
    if run_status not in WorkflowRun.Status.values:
        run_status = ""
    runs = workflow_runs(workflow=workflow, status=run_status, limit=50)
    for run in runs:
        run.step_rows = _steps(  # type: ignore[attr-defined]
            [
                {"index": s.index, "action": s.action, "status": s.status, "detail": s.detail}
                | {"error": s.error, "status_label": s.get_status_display()}
                for s in run.steps.all()
            ]
        )
    version = workflow.current_version
    return render(
        request,
        "settings/workflow_detail.html",
        {
            "workflow": workflow,
            "version": version,
            "trigger_label": TRIGGER_LABELS.get(workflow.trigger_type, workflow.trigger_type),
            "definition": json.dumps(
                {
                    "trigger": version.trigger,
                    "conditions": version.conditions,
                    "actions": version.actions,
                }
                if version
                else {},
                ensure_ascii=False,
                indent=1,
            ),
            "versions": workflow.versions.order_by("-number"),
            "records": _recent_records(workflow.object_api_name),
            "record_id": record_id,
            "report": report,
            "errors": errors,
            "runs": runs,
            "run_status": run_status,
            "run_statuses": WorkflowRun.Status.choices,
        },
        status=status,
    )
