"""API of the access layer: the caller's effective permissions and the audit log."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.access import policy
from tenants.access.drf import AccessControlledApi
from tenants.access.models import AuditEvent
from tenants.access.principal import ADMIN_SCOPE
from tenants.access.selectors import audit_events
from tenants.errors import ApplicationError


class AccessMeApi(APIView):
    """What the caller may do: roles, property scope, and per object the actions and
    the fields with their level (``read``/``edit``); hidden fields are absent."""

    @extend_schema(
        responses={
            200: {
                "type": "object",
                "description": "Roles, hotel scope, and per object its actions and fields",
            }
        }
    )
    def get(self, request):
        scopes = policy.request_scopes(request)
        return Response(policy.effective_permissions(request.user, scopes=scopes))


class AuditEventOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_email")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_id",
            "action",
            "object_api_name",
            "record_id",
            "record_count",
            "fields",
            "ip_address",
            "user_agent",
            "details",
        ]


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)


class AuditPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")
    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"


class AuditEventListApi(AccessControlledApi, APIView):  # type: ignore[misc]
    """Browse the audit log (administrators: ``view`` on ``audit_event``). Filters:
    ``actor`` (user id), ``action``, ``object``, ``record``, ``since``, ``until``
    (ISO 8601, ``until`` exclusive)."""

    access_object = "audit_event"

    def module_for(self, request) -> str:
        return ADMIN_SCOPE

    class Filters(serializers.Serializer):
        actor = serializers.IntegerField(required=False)
        action = serializers.ChoiceField(choices=AuditEvent.Action.choices, required=False)
        object = serializers.CharField(required=False, max_length=150)
        record = serializers.CharField(required=False, max_length=100)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(
        parameters=[
            Filters,
            OpenApiParameter("cursor", str),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": 500}, description="Default 50"
            ),
        ],
        responses={
            200: inline_serializer(
                name="AuditEventPage",
                fields={
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "results": AuditEventOutput(many=True),
                },
            )
        },
    )
    def get(self, request):
        empty = [str(k) for k in self.Filters().fields if request.query_params.get(k) == ""]
        if empty:
            raise ValidationError({k: f"{k} needs a value (or leave it out)." for k in empty})
        limit = request.query_params.get("limit")
        if limit is not None and not (
            limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 500
        ):
            raise ValidationError({"limit": "Use a whole number from 1 to 500."})
        for name in ("since", "until"):
            raw = request.query_params.get(name)
            if raw is not None and not RFC3339.fullmatch(raw):
                raise ValidationError(
                    {name: f"{name} is a date-time such as 2026-12-01T09:00:00Z."}
                )
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ApplicationError("since must be before until.", field="since")
        events = audit_events(
            actor_id=data.get("actor"),
            action=data.get("action"),
            object_api_name=data.get("object"),
            record_id=data.get("record"),
            since=data.get("since"),
            until=data.get("until"),
        )
        paginator = AuditPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventOutput(page, many=True).data)
