"""Permission classes of the administration doors. They only ask the principal (the one
administrator rule, narrowed by an API key's ``admin:`` scope); the services behind
them ask again, so a door without this class still cannot do an administrator's work."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenants.access.principal import Principal


class AdminOnly(BasePermission):
    """Administrators only: reads need ``admin:read`` (or more) on an API key, writes
    ``admin:write``."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        Principal.from_request(request).require_admin(
            "use this part of the API", write=request.method not in SAFE_METHODS
        )
        return True
