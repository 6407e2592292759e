from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from tenants.access import registry
from tenants.access.context import origin_from_request, origin_reset, origin_set
from tenants.context import current_schema


class AccessMiddleware:
    """Per request: a fresh cache for the object catalogue, the request's origin for
    the audit log, and the two-factor gate (a signed-in user who has to enter a code,
    or has to enrol because a role requires it, reaches nothing else until done).
    Goes after AuthenticationMiddleware and django-otp's OTPMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        cache_token = registry.request_cache_begin()
        origin_token = origin_set(origin_from_request(request))
        try:
            blocked = self._two_factor_gate(request)
            return blocked if blocked is not None else self.get_response(request)
        finally:
            origin_reset(origin_token)
            registry.request_cache_end(cache_token)

    def process_exception(self, request, exception):
        """UI pages may call the policy directly: a refusal becomes a 403 page with its
        message (the API has its own handler, so /api/ is left to DRF)."""
        from tenants.access.errors import AccessDenied

        if isinstance(exception, AccessDenied) and not request.path_info.startswith("/api/"):
            return render(request, "access/denied.html", {"message": exception.message}, status=403)
        return None

    def _two_factor_gate(self, request):
        if current_schema() == settings.PUBLIC_SCHEMA_NAME:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(user, "is_verified"):
            return None
        if self._exempt(request.path_info):
            return None
        from tenants.access.two_factor import two_factor_pending

        pending = two_factor_pending(user)
        if pending is None:
            return None
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "errors": [
                        {
                            "field": None,
                            "code": "two_factor_required",
                            "message": "Finish signing in with your one-time code first."
                            if pending == "verify"
                            else "Your role requires two-factor sign-in: enrol a device first.",
                        }
                    ]
                },
                status=403,
            )
        name = settings.ATRIUM_TWO_FACTOR_URLS[pending]
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(name)}?{query}")

    @staticmethod
    def _exempt(path: str) -> bool:
        names = [*settings.ATRIUM_TWO_FACTOR_URLS.values(), *settings.ATRIUM_TWO_FACTOR_EXEMPT]
        for name in names:
            try:
                if path == reverse(name):
                    return True
            except NoReverseMatch:
                continue
        return path.startswith("/" + settings.STATIC_URL.lstrip("/"))
