"""Staff accounts and roles through the API, for ops teams and integrators who script
them (administrators; API keys need ``admin:read`` / ``admin:write``):

    GET, POST   /api/v1/users/                {"email", "full_name", "roles": [...],
                                               "property_ids": [...] or null}
    GET, PATCH  /api/v1/users/{id}/           {"roles", "property_ids", "is_active": false}
    GET, POST   /api/v1/roles/                {"key", "name", "description", and optionally
                                               "objects" and "fields" as for PATCH}
    GET, PATCH  /api/v1/roles/{key}/         {"name", "description", "requires_two_factor",
                                               "objects": {"<object>|module:<key>|*":
                                                 {"actions": [...], "field_default": "read"}},
                                               "fields": [{"object", "field",
                                                 "access": "hidden|read|edit|null"}]}
    DELETE      /api/v1/roles/{key}/         (roles of your own; built-in ones stay)

Every change goes through the account and access services, which check the principal
and write the audit log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from saas.api.openapi import page
from saas.api.permissions import AdminOnly
from saas.api.serializers import JSONBooleanField, KeyField, StrictSerializer
from tenants.access.models import ACTIONS, FieldAccess, Role
from tenants.access.principal import ADMIN_SCOPE, Principal
from tenants.access.scoping import property_ids_for
from tenants.access.selectors import role_list
from tenants.access.services import (
    role_create,
    role_delete,
    role_rights_set,
    role_update,
    user_property_scope_set,
    user_roles_set,
)
from tenants.errors import NotFound
from tenants.users.selectors import users_list
from tenants.users.services import user_create, user_deactivate


def _hotels_check(ids: list[int] | None) -> list[int] | None:
    """Hotel ids must exist in this tenant (a scope naming nothing would grant nothing
    and hide the mistake)."""
    if ids is None:
        return None
    from crm.models import Property

    known = set(Property.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = sorted(set(ids) - known)
    if unknown:
        raise serializers.ValidationError({"property_ids": f"No hotel with id {unknown[0]}."})
    return sorted(set(ids))


def user_as_dict(user) -> dict[str, Any]:
    roles = sorted(r.key for r in user.access_roles.all())
    ids = property_ids_for(user)
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "is_admin": Principal.of(user).is_admin,
        "roles": roles,
        "property_ids": None if ids is None else sorted(ids),
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def role_as_dict(role: Role) -> dict[str, Any]:
    return {
        "key": role.key,
        "name": role.name,
        "description": role.description,
        "built_in": role.is_system,
        "grants_everything": role.grants_everything,
        "requires_two_factor": role.requires_two_factor,
        "objects": {
            p.target: {"actions": sorted(p.actions()), "field_default": p.field_default}
            for p in role.object_permissions.all()
        },
        "fields": [
            {"object": p.object_api_name, "field": p.field_api_name, "access": p.access}
            for p in role.field_permissions.all()
        ],
    }


USER: dict[str, Any] = {
    "type": "object",
    "required": ["id", "email", "roles"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "full_name": {"type": "string"},
        "is_active": {"type": "boolean"},
        "is_admin": {"type": "boolean"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "property_ids": {"type": "array", "items": {"type": "integer"}, "nullable": True},
        "date_joined": {"type": "string", "format": "date-time"},
        "last_login": {"type": "string", "format": "date-time", "nullable": True},
    },
}
USER_CREATED = {
    **USER,
    "properties": {
        **USER["properties"],
        "one_time_password": {"type": "string", "description": "Shown once, here"},
    },
}
ROLE = {
    "type": "object",
    "required": ["key", "name"],
    "properties": {
        "key": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "built_in": {"type": "boolean"},
        "grants_everything": {"type": "boolean"},
        "requires_two_factor": {"type": "boolean"},
        "objects": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "actions": {"type": "array", "items": {"type": "string"}},
                    "field_default": {"type": "string"},
                },
            },
        },
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "object": {"type": "string"},
                    "field": {"type": "string"},
                    "access": {"type": "string", "nullable": True},
                },
            },
        },
    },
}


class AdminApi(APIView):
    def get_permissions(self):
        return [*super().get_permissions(), AdminOnly()]

    def module_for(self, request) -> str:
        return ADMIN_SCOPE


class UserInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    roles = serializers.ListField(child=KeyField(max_length=60), required=False, max_length=20)
    property_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        allow_null=True,
        max_length=500,
    )


class UserChange(StrictSerializer):
    roles = serializers.ListField(child=KeyField(max_length=60), required=False, max_length=20)
    property_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        allow_null=True,
        max_length=500,
    )
    is_active = JSONBooleanField(required=False)

    def validate_is_active(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError("Accounts are switched off here, not back on.")
        return value


class UserListApi(AdminApi):
    @extend_schema(responses={200: page(USER)})
    def get(self, request):
        return Response({"results": [user_as_dict(u) for u in users_list()]})

    @extend_schema(request=UserInput, responses={201: USER_CREATED})
    def post(self, request):
        data = UserInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user, password = user_create(
            actor=Principal.from_request(request),
            email=values["email"],
            full_name=values.get("full_name", ""),
            roles=values.get("roles", []),
            property_ids=_hotels_check(values.get("property_ids")),
        )
        # The one-time password is shown once, here; the user must change it.
        return Response({**user_as_dict(user), "one_time_password": password}, status=201)


class UserDetailApi(AdminApi):
    def _user(self, pk: int):
        user = users_list().filter(pk=pk).first()
        if user is None:
            raise NotFound(f"No user with id {pk}.", field="id")
        return user

    @extend_schema(responses={200: USER})
    def get(self, request, pk: int):
        return Response(user_as_dict(self._user(pk)))

    @extend_schema(request=UserChange, responses={200: USER})
    def patch(self, request, pk: int):
        user = self._user(pk)
        data = UserChange(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = Principal.from_request(request)
        if "roles" in values:
            wanted = list(Role.objects.filter(key__in=values["roles"]))
            unknown = sorted(set(values["roles"]) - {r.key for r in wanted})
            if unknown:
                raise serializers.ValidationError(
                    {"roles": f"Unknown roles: {', '.join(unknown)}."}
                )
            user_roles_set(user=user, roles=wanted, actor=actor)
        if "property_ids" in values:
            user_property_scope_set(
                user=user, property_ids=_hotels_check(values["property_ids"]), actor=actor
            )
        if values.get("is_active") is False:
            user_deactivate(actor=actor, user=user)
        return Response(user_as_dict(self._user(pk)))


class ObjectRightInput(StrictSerializer):
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ACTIONS)), max_length=len(ACTIONS)
    )
    field_default = serializers.ChoiceField(choices=FieldAccess.values, default="hidden")


class FieldRightInput(StrictSerializer):
    object = serializers.CharField(max_length=150)
    field = serializers.CharField(max_length=150)
    access = serializers.ChoiceField(choices=FieldAccess.values, allow_null=True)


def _objects_checked(value: dict) -> dict:
    if len(value) > 500:
        raise serializers.ValidationError("At most 500 objects per request.")
    for target in value:
        if not target or len(target) > 150:
            raise serializers.ValidationError(f"{target!r} names no object.")
    return value


def _rights(values: dict) -> dict:
    """The validated ``objects`` and ``fields`` as role_rights_set takes them."""
    return {
        "objects": {
            target: (right["actions"], right["field_default"])
            for target, right in values.get("objects", {}).items()
        },
        "fields": {
            (row["object"], row["field"]): row["access"] for row in values.get("fields", [])
        },
    }


class RoleInput(StrictSerializer):
    key = KeyField(max_length=60)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    requires_two_factor = JSONBooleanField(required=False, default=False)
    objects = serializers.DictField(child=ObjectRightInput(), required=False)
    # Declared fields leave the class body (DRF's metaclass collects them).
    fields = FieldRightInput(many=True, required=False)  # type: ignore[assignment]

    def validate_objects(self, value: dict) -> dict:
        return _objects_checked(value)


class RoleListApi(AdminApi):
    @extend_schema(responses={200: page(ROLE)})
    def get(self, request):
        return Response({"results": [role_as_dict(r) for r in role_list()]})

    @extend_schema(request=RoleInput, responses={201: ROLE})
    def post(self, request):
        data = RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rights = _rights(values)
        values.pop("objects", None)
        values.pop("fields", None)
        role = role_create(actor=Principal.from_request(request), **values, **rights)
        return Response(role_as_dict(role_list().get(pk=role.pk)), status=201)


class RoleChange(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    requires_two_factor = JSONBooleanField(required=False)
    objects = serializers.DictField(child=ObjectRightInput(), required=False)
    # Declared fields leave the class body (DRF's metaclass collects them).
    fields = FieldRightInput(many=True, required=False)  # type: ignore[assignment]

    def validate_objects(self, value: dict) -> dict:
        return _objects_checked(value)


def _role(key: str) -> Role:
    role = role_list().filter(key=key).first()
    if role is None:
        raise NotFound(f"No role {key!r}.", field="key")
    return role


class RoleDetailApi(AdminApi):
    @extend_schema(responses={200: ROLE})
    def get(self, request, key: str):
        return Response(role_as_dict(_role(key)))

    @extend_schema(request=RoleChange, responses={200: ROLE})
    def patch(self, request, key: str):
        role = _role(key)
        data = RoleChange(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = Principal.from_request(request)
        role_update(
            role=role,
            actor=actor,
            name=values.get("name"),
            description=values.get("description"),
            requires_two_factor=values.get("requires_two_factor"),
        )
        role_rights_set(role=role, actor=actor, **_rights(values))
        return Response(role_as_dict(_role(key)))

    def delete(self, request, key: str):
        role_delete(role=_role(key), actor=Principal.from_request(request))
        return Response(status=204)
