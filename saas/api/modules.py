"""What every domain module's API views share: the module a door belongs to, the acting
principal, a page of rows masked by the reader's rights, and one masked row; and the
small helpers of their bodies, paths and OpenAPI answers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saas.api.openapi import ERROR_STATUSES
from saas.api.query import MAX_LIMIT, cursor_decode, cursor_encode
from tenants.access.principal import Principal
from tenants.errors import NotFound

PAGE_PARAMS = [
    OpenApiParameter("limit", int, description=f"Records per page (1-{MAX_LIMIT}, default 50)"),
    OpenApiParameter("cursor", str, description="The `next` link's cursor"),
]


class ModuleApi(APIView):
    # Subclasses name their ``module`` (the switch a key's scope and the catalogue use)
    # and the access object whose field rights mask their rows. (No docstring: the
    # OpenAPI document would take it as every operation's description.)

    module = ""
    object_api_name = ""

    def module_for(self, request) -> str:
        return self.module

    @property
    def actor(self) -> Principal:
        return Principal.from_request(self.request)

    def page(self, request: Request, queryset: QuerySet, render) -> Response:
        raw_limit = request.query_params.get("limit", "50")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise serializers.ValidationError(
                {"limit": f"Use a whole number from 1 to {MAX_LIMIT}."}
            )
        limit = int(raw_limit)
        offset = cursor_decode(request.query_params.get("cursor"))
        rows = [render(obj) for obj in queryset[offset : offset + limit + 1]]
        next_url = None
        if len(rows) > limit:
            params = request.query_params.copy()
            params["cursor"] = cursor_encode(offset + limit)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        results = self.actor.mask_many(self.object_api_name, rows[:limit])
        return Response({"results": results, "next": next_url})

    def one(self, row: dict[str, Any], status: int = 200) -> Response:
        return Response(self.actor.mask(self.object_api_name, row), status=status)


# --- what the module views share besides the base class ---------------------------------


def id_field(**extra: Any) -> serializers.IntegerField:
    """A record id in a body: a positive whole number the database can hold."""
    return serializers.IntegerField(min_value=1, max_value=2**62, **extra)


def path_id(pk: int) -> int:
    """An id from the path; one past what the database holds is simply not there."""
    if pk > 2**62:
        raise NotFound("There is no such record.", field="id")
    return pk


def body_valid(serializer_class, request: Request) -> dict[str, Any]:
    """The request's JSON object checked by ``serializer_class`` (400 naming the field);
    a body that is not an object is checked as no body."""
    data = serializer_class(data=request.data if isinstance(request.data, dict) else None)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def int_param(request: Request, name: str) -> int | None:
    """An optional record id in the query string."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 2**62:
        raise serializers.ValidationError({name: "Give a record id (a positive whole number)."})
    return int(raw)


ERRORS = inline_serializer(
    name="Errors", fields={"errors": serializers.ListField(child=serializers.DictField())}
)


def error_responses(*codes: int) -> dict[int, Any]:
    """The house's error body for each status, described for the OpenAPI document."""
    described = {**ERROR_STATUSES, "409": "Conflicts with stored data (see the code)"}
    return {
        code: OpenApiResponse(response=ERRORS, description=described[str(code)]) for code in codes
    }


def page_of(name: str, item) -> Any:
    """A page of ``item`` rows with the next page's link, as ``page`` answers."""
    return inline_serializer(
        name=name,
        fields={"results": item(many=True), "next": serializers.CharField(allow_null=True)},
    )
