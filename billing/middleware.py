"""A suspended or cancelled hotel group can read but not write: unsafe requests get 402
with a clear message (JSON under /api/, a page elsewhere). Signing in and out, and the
billing screens that lift the suspension, stay open."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

OPEN_PATHS = ("/login/", "/logout/", "/billing/", "/healthz")
SAFE = ("GET", "HEAD", "OPTIONS")


class TenantStatusMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and getattr(tenant, "is_read_only", False)
            and request.method not in SAFE
            and not request.path.startswith(OPEN_PATHS)
        ):
            message = (
                f"{tenant.name} is {tenant.get_status_display().lower()}: the CRM is read-only "
                "until the subscription is paid. An administrator can settle it under Billing."
            )
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "errors": [
                            {"field": None, "code": f"tenant_{tenant.status}", "message": message}
                        ]
                    },
                    status=402,
                )
            return render(request, "billing/read_only.html", {"message": message}, status=402)
        return self.get_response(request)


def billing_banner(request) -> dict:
    """Template context: a banner while payment is overdue or the workspace is locked."""
    tenant = getattr(request, "tenant", None)
    status = getattr(tenant, "status", None)
    if status in ("past_due", "suspended", "cancelled"):
        return {"billing_banner": status}
    return {}
