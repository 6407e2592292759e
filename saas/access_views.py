"""Two-factor sign-in pages (thin: the work is in tenants.access.two_factor)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from tenants.access.two_factor import (
    device_secret_base32,
    two_factor_enabled,
    two_factor_enrol_confirm,
    two_factor_enrol_start,
    two_factor_verify,
)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


@login_required
def two_factor_verify_view(request):
    if request.user.is_verified() or not two_factor_enabled(request.user):
        return redirect(_next_url(request))
    error = None
    if request.method == "POST":
        device = two_factor_verify(user=request.user, token=request.POST.get("token", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        error = _("The code is not right (or has expired). Try again.")
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


@login_required
def two_factor_enrol_view(request):
    """Enrol an authenticator app: show the key, confirm with a first code."""
    error = None
    if request.method == "POST":
        try:
            device = two_factor_enrol_confirm(
                user=request.user, token=request.POST.get("token", "")
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            otp_login(request, device)
            return redirect(_next_url(request))
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by(
        "-pk"
    ).first() or two_factor_enrol_start(user=request.user)
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "secret": device_secret_base32(device),
            "config_url": device.config_url,
            "error": error,
            "already_enabled": two_factor_enabled(request.user),
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )
