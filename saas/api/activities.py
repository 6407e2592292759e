"""Notes, calls and tasks on any record (guests, reservations, companies, record types of
the tenant's own) through the API:

    GET   /api/v1/activities/?object=guest&record_id=12[&kind=task]
    POST  /api/v1/activities/                 {"object": "guest", "record_id": 12,
                                               "kind": "note|call|task", "subject", "body",
                                               "direction", "duration_seconds",
                                               "assignee": <user id>, "due_at": "..."}
    GET   /api/v1/activities/{id}/
    POST  /api/v1/activities/{id}/complete/   tick a task off
    GET   /api/v1/tasks/open/                 the caller's own open tasks, earliest due first

Reading needs the view right on the record's object and the record within the caller's
hotels; logging and completing need edit (a task's assignee may complete it). A due time
without an offset is read in the tenant's time zone; answers carry it in UTC
(``due_at``) and in the tenant's time zone (``due_at_local``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Activity
from crm.selectors.timeline import activities_for, activity_for, tasks_open_mine
from crm.services.activities import activity_create, task_complete
from saas.api.serializers import StrictSerializer
from tenants.access.principal import Principal
from tenants.context import current_zone as tenant_zone

LOGGED_KINDS = (Activity.Kind.NOTE, Activity.Kind.CALL, Activity.Kind.TASK)
PAGE_MAX = 200


def _local(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(tenant_zone()).isoformat()


def activity_as_dict(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.pk,
        "object": activity.object_api_name,
        "record_id": activity.record_id,
        "kind": activity.kind,
        "subject": activity.subject,
        "body": activity.body,
        "direction": activity.direction or None,
        "occurred_at": activity.occurred_at,
        "duration_seconds": activity.duration_seconds,
        "due_at": activity.due_at,
        "due_at_local": _local(activity.due_at),
        "completed_at": activity.completed_at,
        "assignee": activity.assignee_id,
        "assignee_email": activity.assignee.email if activity.assignee else None,
        "created_by": activity.created_by.email if activity.created_by else None,
    }


class ActivityOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    object = serializers.CharField(read_only=True)
    record_id = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Activity.Kind.values, read_only=True)
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    direction = serializers.CharField(read_only=True, allow_null=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    duration_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    due_at_local = serializers.CharField(
        read_only=True, allow_null=True, help_text="The due time in the tenant's time zone."
    )
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    assignee = serializers.IntegerField(read_only=True, allow_null=True)
    assignee_email = serializers.EmailField(read_only=True, allow_null=True)
    created_by = serializers.EmailField(read_only=True, allow_null=True)


class ActivityListOutput(serializers.Serializer):
    results = ActivityOutput(many=True)


class TenantDateTimeField(serializers.DateTimeField):
    """A date-time whose offset may be left out: then it is the tenant's local time."""

    def enforce_timezone(self, value):
        if not 1900 <= value.year <= 2999:
            # Near year 1 or 9999 the move to UTC leaves the calendar.
            raise serializers.ValidationError("Give a date between 1900 and 2999.")
        if timezone.is_naive(value):
            return timezone.make_aware(value, tenant_zone())
        return super().enforce_timezone(value)


class ActivityInput(StrictSerializer):
    object = serializers.SlugField(max_length=64)
    record_id = serializers.IntegerField(min_value=1, max_value=2**62)
    kind = serializers.ChoiceField(choices=[str(k) for k in LOGGED_KINDS])
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    direction = serializers.ChoiceField(
        choices=["inbound", "outbound"], required=False, allow_blank=True
    )
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=86_400, required=False, allow_null=True
    )
    assignee = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, allow_null=True
    )
    due_at = TenantDateTimeField(
        required=False,
        allow_null=True,
        help_text="Without an offset, the tenant's local time.",
    )


class ActivityFilters(serializers.Serializer):
    object = serializers.SlugField(max_length=64)
    record_id = serializers.IntegerField(min_value=1, max_value=2**62)
    kind = serializers.ChoiceField(choices=Activity.Kind.values, required=False)


class ActivityListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("object", str, required=True),
            OpenApiParameter("record_id", int, required=True),
            OpenApiParameter("kind", str, enum=Activity.Kind.values),
        ],
        responses={200: ActivityListOutput},
    )
    def get(self, request):
        filters = ActivityFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        activities = activities_for(
            actor=Principal.from_request(request),
            object_api_name=values["object"],
            record_id=values["record_id"],
            kind=values.get("kind"),
        )[:PAGE_MAX]
        return Response({"results": [activity_as_dict(a) for a in activities]})

    @extend_schema(request=ActivityInput, responses={201: ActivityOutput})
    def post(self, request):
        data = ActivityInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        assignee = None
        if values.get("assignee"):
            assignee = get_user_model().objects.filter(pk=values["assignee"]).first()
            if assignee is None:
                raise serializers.ValidationError(
                    {"assignee": f"No user with id {values['assignee']}."}
                )
        activity = activity_create(
            actor=Principal.from_request(request),
            object_api_name=values["object"],
            record_id=values["record_id"],
            kind=values["kind"],
            subject=values.get("subject", ""),
            body=values.get("body", ""),
            direction=values.get("direction", ""),
            duration_seconds=values.get("duration_seconds"),
            assignee=assignee,
            due_at=values.get("due_at"),
        )
        return Response(activity_as_dict(activity), status=201)


class ActivityDetailApi(APIView):
    @extend_schema(responses={200: ActivityOutput})
    def get(self, request, pk: int):
        activity = activity_for(actor=Principal.from_request(request), activity_id=pk)
        return Response(activity_as_dict(activity))


class ActivityCompleteApi(APIView):
    @extend_schema(request=None, responses={200: ActivityOutput})
    def post(self, request, pk: int):
        actor = Principal.from_request(request)
        activity = task_complete(activity=activity_for(actor=actor, activity_id=pk), actor=actor)
        return Response(activity_as_dict(activity))


class MyOpenTasksApi(APIView):
    @extend_schema(
        responses={200: ActivityListOutput},
        description="Tasks assigned to the caller and not completed, earliest due first, "
        "on records the caller may still view (up to 100).",
    )
    def get(self, request):
        tasks = tasks_open_mine(actor=Principal.from_request(request))
        return Response({"results": [activity_as_dict(a) for a in tasks]})
