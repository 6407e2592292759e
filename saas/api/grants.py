"""Temporary grants through the API (administrators; API keys need ``admin:read`` /
``admin:write``): one action or one field level for one user, until a time, with a
reason; revoking ends it at once.

    GET     /api/v1/grants/                ?include=ended also lists revoked and expired ones
    POST    /api/v1/grants/                {"user": 12, "object": "spa_plan", "action": "edit",
                                            "expires_at": "...", "reason": "..."}
                                           or {"field": "birth_date", "access": "read", ...}
    GET     /api/v1/grants/{id}/
    DELETE  /api/v1/grants/{id}/           revoke

The access services check the principal, bump the rights version and write the audit
log; an administrator may only hand out what they hold themselves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from saas.api.serializers import StrictSerializer
from saas.api.users import AdminApi
from tenants.access.models import ACTIONS, TemporaryGrant
from tenants.access.principal import Principal
from tenants.access.selectors import temporary_grants_list
from tenants.access.services import temporary_grant_create, temporary_grant_revoke
from tenants.errors import NotFound


def grant_as_dict(grant: TemporaryGrant) -> dict[str, Any]:
    now = timezone.now()
    if grant.revoked_at is not None:
        status = "revoked"
    elif grant.expires_at <= now:
        status = "expired"
    elif grant.starts_at > now:
        status = "scheduled"
    else:
        status = "active"
    return {
        "id": grant.pk,
        "user": grant.user_id,
        "user_email": grant.user.email,
        "object": grant.object_api_name,
        "action": grant.action or None,
        "field": grant.field_api_name or None,
        "access": grant.field_access or None,
        "starts_at": grant.starts_at,
        "expires_at": grant.expires_at,
        "reason": grant.reason,
        "granted_by": grant.granted_by.email if grant.granted_by else None,
        "revoked_at": grant.revoked_at,
        "revoked_by": grant.revoked_by.email if grant.revoked_by else None,
        "status": status,
    }


class GrantOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.IntegerField(read_only=True)
    user_email = serializers.EmailField(read_only=True)
    object = serializers.CharField(read_only=True)
    action = serializers.CharField(read_only=True, allow_null=True)
    field = serializers.CharField(read_only=True, allow_null=True)
    access = serializers.CharField(read_only=True, allow_null=True)
    starts_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    reason = serializers.CharField(read_only=True)
    granted_by = serializers.EmailField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_by = serializers.EmailField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(
        choices=["active", "scheduled", "expired", "revoked"], read_only=True
    )


class GrantListOutput(serializers.Serializer):
    results = GrantOutput(many=True)


class GrantInput(StrictSerializer):
    user = serializers.IntegerField(min_value=1, max_value=2**62)
    object = serializers.CharField(max_length=150)
    action = serializers.ChoiceField(choices=list(ACTIONS), required=False)
    field = serializers.CharField(max_length=150, required=False)
    access = serializers.ChoiceField(choices=["read", "edit"], required=False)
    starts_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False)

    def validate(self, attrs):
        if bool(attrs.get("action")) == bool(attrs.get("field")):
            raise serializers.ValidationError(
                {"action": "Give either an action or a field (with access), not both."}
            )
        if attrs.get("field") and not attrs.get("access"):
            raise serializers.ValidationError({"access": "A field grant gives read or edit."})
        return attrs


def _grant(pk: int) -> TemporaryGrant:
    grant = temporary_grants_list(include_ended=True).filter(pk=pk).first()
    if grant is None:
        raise NotFound(f"No temporary grant with id {pk}.", field="id")
    return grant


class GrantListApi(AdminApi):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "include", str, enum=["ended"], description="Also revoked and expired grants."
            )
        ],
        responses={200: GrantListOutput},
    )
    def get(self, request):
        include = request.query_params.get("include")
        if include not in (None, "ended"):
            raise ValidationError({"include": "Only include=ended is known."})
        include_ended = include == "ended"
        grants = temporary_grants_list(include_ended=include_ended)[:500]
        return Response({"results": [grant_as_dict(g) for g in grants]})

    @extend_schema(request=GrantInput, responses={201: GrantOutput})
    def post(self, request):
        data = GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = get_user_model().objects.filter(pk=values["user"]).first()
        if user is None:
            raise serializers.ValidationError({"user": f"No user with id {values['user']}."})
        grant = temporary_grant_create(
            actor=Principal.from_request(request),
            user=user,
            object_api_name=values["object"],
            action=values.get("action"),
            field_api_name=values.get("field"),
            field_access=values.get("access"),
            starts_at=values.get("starts_at"),
            expires_at=values["expires_at"],
            reason=values.get("reason", ""),
        )
        return Response(grant_as_dict(grant), status=201)


class GrantDetailApi(AdminApi):
    @extend_schema(responses={200: GrantOutput})
    def get(self, request, pk: int):
        return Response(grant_as_dict(_grant(pk)))

    @extend_schema(responses={200: GrantOutput})
    def delete(self, request, pk: int):
        grant = temporary_grant_revoke(grant=_grant(pk), actor=Principal.from_request(request))
        return Response(grant_as_dict(grant))
