"""API-key authentication and scope checks for /api/v1/.

``Authorization: Bearer atr_<prefix>_<secret>``. The key is looked up in the schema of
the tenant the Host header chose, so a key of one hotel group means nothing on another's
domain. The request then runs as the key's user, narrowed to the key's scopes."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenants.integrations.models import ApiKey
from tenants.integrations.services import api_key_authenticate, scope_allows


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(f"{self.keyword} "):
            return None
        token = header[len(self.keyword) + 1 :].strip()
        try:
            key = api_key_authenticate(token)
        except Exception as exc:
            code = getattr(exc, "code", "authentication_failed")
            raise exceptions.AuthenticationFailed(str(exc), code=code) from None
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def request_scopes(request) -> list[str] | None:
    """The key's scopes, or None for a browser session (the user's own rights apply)."""
    return request.auth.scopes if isinstance(request.auth, ApiKey) else None


class ModuleScopePermission(BasePermission):
    """Views name the module they belong to (``module_for(request, view)``); an API key
    needs ``<module>:read`` for reads and ``<module>:write`` for writes, or ``*``."""

    message = "This API key's scopes do not cover this module."

    def has_permission(self, request, view) -> bool:
        scopes = request_scopes(request)
        if scopes is None:
            return True
        module = view.module_for(request) if hasattr(view, "module_for") else None
        if module is None:
            return "*" in scopes
        write = request.method not in SAFE_METHODS
        if not scope_allows(scopes, module=module, write=write):
            self.message = f"This API key lacks the {module}:{'write' if write else 'read'} scope."
            return False
        return True
