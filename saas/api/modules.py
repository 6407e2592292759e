"""What every domain module's API views share: the module a door belongs to, the acting
principal, a page of rows masked by the reader's rights, and one masked row."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saas.api.query import MAX_LIMIT, cursor_decode, cursor_encode
from tenants.access.principal import Principal

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
