"""API-key authentication and scope checks for /api/v1/.

``Authorization: Bearer atr_<prefix>_<secret>``. The key is looked up in the schema of
the tenant the Host header chose, so a key of one hotel group means nothing on another's
domain. The request then runs as the key's user, narrowed to the key's scopes."""

from __future__ import annotations

import time

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import BaseThrottle

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
            # Not a module's door (the caller's own profile, the schema): the services
            # behind any data still narrow the key by its scopes.
            return True
        write = request.method not in SAFE_METHODS
        if not scope_allows(scopes, module=module, write=write):
            self.message = f"This API key lacks the {module}:{'write' if write else 'read'} scope."
            return False
        return True


class ApiKeyRateThrottle(BaseThrottle):
    """Requests per minute per API key (fixed one-minute windows in the cache, which
    is shared between processes when CACHE_URL points at Redis). The limit comes from
    the tenant's plan, else ATRIUM_API_RATE_PER_MINUTE."""

    def allow_request(self, request, view) -> bool:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is None:
            return True
        from django.conf import settings
        from django.core.cache import cache

        from tenants.entitlements import tenant_limit

        limit = tenant_limit(getattr(request, "tenant", None), "api_requests_per_minute")
        limit = limit if limit is not None else settings.ATRIUM_API_RATE_PER_MINUTE
        now = time.time()
        window = int(now // 60)
        bucket = f"api-rate:{key.prefix}:{window}"
        cache.add(bucket, 0, timeout=90)
        try:
            count = cache.incr(bucket)
        except ValueError:  # evicted between add and incr
            cache.set(bucket, 1, timeout=90)
            count = 1
        self._wait = 60 - (now % 60)
        return count <= limit

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class BodySizeMiddleware:
    """API bodies above DATA_UPLOAD_MAX_MEMORY_SIZE get a 413 in the API's error shape
    (Django alone would answer a bare 400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.http import JsonResponse

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") or "0"
        if request.path.startswith("/api/") and length.isdigit() and int(length) > limit:
            return JsonResponse(
                {
                    "errors": [
                        {
                            "field": None,
                            "code": "too_large",
                            "message": f"The body is larger than {limit:,} bytes; send "
                            "fewer records per request.",
                        }
                    ]
                },
                status=413,
            )
        return self.get_response(request)
