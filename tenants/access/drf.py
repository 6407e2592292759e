"""What REST resources use to apply the policy, so every resource checks the same way
(Sentry's base-endpoint pattern: the check happens once, before the handler)::

    class GuestListApi(AccessControlledApi, APIView):
        access_object = "guest"

        def get(self, request):
            qs = self.access_filter_properties(Guest.objects.all(),
                                               lookup="reservations__property_id")
            return Response({"results": self.access_mask_many(rows)})

        def post(self, request):
            self.access_require_editable(request.data.keys())
            ...

``GET``/``HEAD``/``OPTIONS`` need ``view``, ``POST`` ``create``, ``PUT``/``PATCH``
``edit``, ``DELETE`` ``delete``; set ``access_action = "export"`` (or override
``get_access_action``) on an export resource. API-key scopes come from
``request.auth.scopes`` (see ``policy.request_scopes``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.permissions import BasePermission, IsAuthenticated

from tenants.access import policy, scoping

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "edit",
    "PATCH": "edit",
    "DELETE": "delete",
}


class ObjectPermission(BasePermission):
    """Allows the request when the policy allows the resource's object and action;
    otherwise raises AccessDenied, which the API's exception handler turns into a 403
    with ``permission_denied`` and a message saying what was refused."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        object_api_name = view.get_access_object()
        action = view.get_access_action(request)
        policy.object_require(
            request.user, object_api_name, action, scopes=policy.request_scopes(request)
        )
        return True


class AccessControlledApi:
    """Mixin for API views: declares the object, checks it, masks what leaves."""

    access_object: str = ""
    access_action: str | None = None
    request: Any  # set by DRF's APIView this mixes into
    permission_classes = [IsAuthenticated, ObjectPermission]

    def get_access_object(self) -> str:
        if not self.access_object:
            raise NotImplementedError(f"{type(self).__name__} must set access_object")
        return self.access_object

    def get_access_action(self, request) -> str:
        return self.access_action or METHOD_ACTIONS.get(request.method, "view")

    @property
    def access_scopes(self) -> frozenset[str] | None:
        return policy.request_scopes(self.request)

    def access_mask(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return policy.record_mask(
            self.request.user, self.get_access_object(), data, scopes=self.access_scopes
        )

    def access_mask_many(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return policy.records_mask(
            self.request.user, self.get_access_object(), rows, scopes=self.access_scopes
        )

    def access_require_editable(self, field_names: Iterable[str]) -> None:
        policy.fields_require_editable(
            self.request.user, self.get_access_object(), field_names, scopes=self.access_scopes
        )

    def access_filter_properties(self, queryset, *, lookup: str = "property_id"):
        return scoping.filter_by_properties(queryset, self.request.user, lookup=lookup)
