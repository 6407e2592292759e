"""Workflows through the API: list, create and change definitions (administrators), dry
run against a record, run now on records, read the run log, import templates.

    GET, POST  /api/v1/workflows/
    GET        /api/v1/workflows/actions/
    GET        /api/v1/workflows/templates/
    POST       /api/v1/workflows/templates/{name}/import/   {"dry_run": true, "enabled": false}
    GET        /api/v1/workflows/runs/{run_id}/
    GET, PATCH /api/v1/workflows/{id or key}/
    POST       /api/v1/workflows/{id or key}/dry-run/       {"record_id": 12}
    POST       /api/v1/workflows/{id or key}/run/           {"record_ids": [...]}
                                                            or {"filters": [[f, op, v]]}
    GET        /api/v1/workflows/{id or key}/runs/          ?status=failed&record_id=12&limit=50
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from metadata.models import WorkflowRun
from metadata.selectors.workflows import (
    run_as_dict,
    run_get,
    workflow_get,
    workflow_runs,
    workflows_list,
)
from metadata.services.workflows import (
    workflow_as_dict,
    workflow_create,
    workflow_template_import,
    workflow_templates,
    workflow_update,
)
from metadata.workflows.engine import workflow_dry_run, workflow_run_manual
from metadata.workflows.registry import action_types
from saas.api.openapi import json_body, page, text
from saas.api.permissions import AdminOnly
from tenants.access.principal import ADMIN_SCOPE, Principal

CREATE_KEYS = {
    "key",
    "name",
    "translations",
    "description",
    "object",
    "owner_module",
    "enabled",
    "trigger",
    "conditions",
    "actions",
}
UPDATE_KEYS = CREATE_KEYS - {"key", "object"}


OBJ = {"type": "object"}
WORKFLOW = {
    "type": "object",
    "required": ["id", "key"],
    "properties": {
        "id": {"type": "integer"},
        "key": {"type": "string"},
        "name": {"type": "string"},
        "enabled": {"type": "boolean"},
        "trigger": OBJ,
        "conditions": {"type": "array", "items": OBJ},
        "actions": {"type": "array", "items": OBJ},
    },
}
WORKFLOW_WRITE = {
    "key": {**text(100, min_length=1), "pattern": "^[a-z][a-z0-9_]*$"},
    "name": text(200, min_length=1),
    "translations": OBJ,
    "description": text(),
    "object": text(150),
    "owner_module": text(60),
    "enabled": {"type": "boolean"},
    "trigger": {**OBJ, "description": "manual, an event on an object, a date field or cron"},
    "conditions": {"type": "array", "items": OBJ},
    "actions": {"type": "array", "items": OBJ, "minItems": 1},
}
RUN = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": list(WorkflowRun.Status.values)},
        "record_id": {"type": "string"},
    },
}


def _payload(request, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    data = dict(request.data)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            {k: ValidationError(f"{k} is not a setting here.", code="unknown") for k in unknown}
        )
    missing = [k for k in required if data.get(k) in (None, "", [], {})]
    if missing:
        raise ValidationError(
            {k: ValidationError(f"{k} is required.", code="required") for k in missing}
        )
    return data


class WorkflowBase(APIView):
    def get_permissions(self):
        return [*super().get_permissions(), AdminOnly()]

    def module_for(self, request) -> str | None:
        # An administration door: API keys need admin:read / admin:write.
        return ADMIN_SCOPE


class WorkflowListApi(WorkflowBase):
    @extend_schema(responses={200: page(WORKFLOW)})
    def get(self, request):
        return Response({"results": [workflow_as_dict(w) for w in workflows_list()]})

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "name", "trigger", "actions"],
                "properties": WORKFLOW_WRITE,
            }
        ),
        responses={201: WORKFLOW},
    )
    def post(self, request):
        data = _payload(request, CREATE_KEYS, ("key", "name", "trigger", "actions"))
        workflow = workflow_create(
            key=data["key"],
            name=data["name"],
            translations=data.get("translations"),
            description=data.get("description") or "",
            object_api_name=data.get("object") or "",
            owner_module=data.get("owner_module") or "",
            enabled=data.get("enabled", True),
            trigger=data["trigger"],
            conditions=data.get("conditions"),
            actions=data["actions"],
            actor=Principal.from_request(request),
        )
        return Response(workflow_as_dict(workflow), status=201)


class WorkflowDetailApi(WorkflowBase):
    @extend_schema(responses={200: WORKFLOW})
    def get(self, request, ref: str):
        workflow = workflow_get(ref=ref)
        body = workflow_as_dict(workflow)
        body["versions"] = [
            {"number": v.number, "created": v.created, "trigger": v.trigger}
            for v in workflow.versions.order_by("-number")
        ]
        return Response(body)

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {k: v for k, v in WORKFLOW_WRITE.items() if k in UPDATE_KEYS},
            }
        ),
        responses={200: WORKFLOW},
    )
    def patch(self, request, ref: str):
        data = _payload(request, UPDATE_KEYS)
        workflow = workflow_update(
            workflow=workflow_get(ref=ref), actor=Principal.from_request(request), **data
        )
        return Response(workflow_as_dict(workflow))


class WorkflowDryRunApi(WorkflowBase):
    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"record_id": {"anyOf": [{"type": "integer"}, text(100)]}},
            }
        ),
        responses={200: OBJ},
    )
    def post(self, request, ref: str):
        data = _payload(request, {"record_id"})
        return Response(
            workflow_dry_run(
                workflow=workflow_get(ref=ref),
                record_id=data.get("record_id", ""),
                actor=Principal.from_request(request),
            )
        )


class WorkflowRunApi(WorkflowBase):
    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "record_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "filters": {"type": "array", "items": {"type": "array"}},
                },
            }
        ),
        responses={
            202: {
                "type": "object",
                "required": ["runs"],
                "properties": {"runs": {"type": "array", "items": RUN}},
            }
        },
    )
    def post(self, request, ref: str):
        data = _payload(request, {"record_ids", "filters"})
        runs = workflow_run_manual(
            workflow=workflow_get(ref=ref),
            record_ids=data.get("record_ids"),
            filters=data.get("filters"),
            actor=Principal.from_request(request),
        )
        return Response(
            {"runs": [{"id": r.pk, "record_id": r.record_id, "status": r.status} for r in runs]},
            status=202,
        )


class WorkflowRunListApi(WorkflowBase):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(WorkflowRun.Status.values)),
            OpenApiParameter("record_id", str),
            OpenApiParameter("limit", int),
        ],
        responses={200: page(RUN)},
    )
    def get(self, request, ref: str):
        status = request.query_params.get("status", "")
        if status and status not in WorkflowRun.Status.values:
            raise ValidationError({"status": f"Use one of {', '.join(WorkflowRun.Status.values)}."})
        limit = request.query_params.get("limit", "50")
        if not limit.isdigit() or not 1 <= int(limit) <= 200:
            raise ValidationError({"limit": "The limit is 1-200."})
        runs = workflow_runs(
            workflow=workflow_get(ref=ref),
            status=status,
            record_id=request.query_params.get("record_id", ""),
            limit=int(limit),
        )
        return Response(
            {"results": [run_as_dict(r, actor=Principal.from_request(request)) for r in runs]}
        )


class WorkflowRunDetailApi(WorkflowBase):
    @extend_schema(responses={200: RUN})
    def get(self, request, run_id: int):
        return Response(run_as_dict(run_get(run_id=run_id), actor=Principal.from_request(request)))


class WorkflowActionListApi(WorkflowBase):
    @extend_schema(responses={200: page(OBJ)})
    def get(self, request):
        return Response(
            {
                "results": [
                    {"type": a.key, "label": a.label, "objects": list(a.objects)}
                    for a in action_types().values()
                ]
            }
        )


class WorkflowTemplateListApi(WorkflowBase):
    @extend_schema(responses={200: page(OBJ)})
    def get(self, request):
        return Response({"results": workflow_templates()})


class WorkflowTemplateImportApi(WorkflowBase):
    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"dry_run": {"type": "boolean"}, "enabled": {"type": "boolean"}},
            }
        ),
        responses={
            200: {**OBJ, "description": "The plan of a dry run"},
            201: {**OBJ, "description": "Imported"},
        },
    )
    def post(self, request, name: str):
        data = _payload(request, {"dry_run", "enabled"})
        for key in ("dry_run", "enabled"):
            if key in data and not isinstance(data[key], bool):
                raise ValidationError({key: f"{key} is true or false."})
        plan = workflow_template_import(
            name=name,
            dry_run=data.get("dry_run", True),
            enabled=data.get("enabled", False),
            actor=Principal.from_request(request),
        )
        return Response(plan, status=200 if plan["dry_run"] else 201)
