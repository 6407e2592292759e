"""Two-factor sign-in pages and the audit log page (thin: the work is in tenants.access)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from tenants.access import policy
from tenants.access.login import password_reset_allow
from tenants.access.models import AuditEvent
from tenants.access.selectors import audit_events
from tenants.access.two_factor import (
    device_secret_base32,
    sign_in_failures_clear,
    two_factor_enabled,
    two_factor_enrol_confirm,
    two_factor_enrol_start,
    two_factor_failure_record,
    two_factor_locked,
    two_factor_verify,
)
from tenants.ratelimit import RateLimited, client_ip


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, throttled per address asked for and per client: each request
    sends a mail, and without a limit anyone could flood a colleague's inbox. The page
    answers alike whether or not an account uses the address."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        try:
            password_reset_allow(
                email=form.cleaned_data["email"], client_ip=client_ip(self.request)
            )
        except RateLimited as exc:
            response = self.render_to_response(
                self.get_context_data(form=form, refusal=exc.message), status=429
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        return super().form_valid(form)


def _locked_out(request, user):
    """Sign the half-signed-in session out and answer with django-axes' lockout page:
    a new password sign-in is refused until the lockout ends."""
    from axes.helpers import get_lockout_response

    credentials = {"username": user.email}
    logout(request)
    return get_lockout_response(request, None, credentials)


@login_required
def two_factor_verify_view(request):
    user = request.user
    if user.is_verified() or not two_factor_enabled(user):
        return redirect(_next_url(request))
    if two_factor_locked(request=request, user=user):
        return _locked_out(request, user)
    error = None
    if request.method == "POST":
        device = two_factor_verify(user=user, token=request.POST.get("token", ""))
        if device is not None:
            otp_login(request, device)
            sign_in_failures_clear(request=request, user=user)
            return redirect(_next_url(request))
        if two_factor_failure_record(request=request, user=user):
            return _locked_out(request, user)
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
    if two_factor_enabled(request.user) and not request.user.is_verified():
        # Replacing the device takes a session that passed the current one: otherwise
        # the password alone could enrol a new app and sign in with it.
        query = urlencode({"next": _next_url(request)})
        return redirect(f"{reverse('two_factor_verify')}?{query}")
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


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", gettext_lazy("Any action")), *AuditEvent.Action.choices], required=False
    )
    object = forms.CharField(required=False, max_length=150, label=gettext_lazy("Object"))
    actor = forms.EmailField(required=False, label=gettext_lazy("User e-mail"))
    since = forms.DateField(required=False, label=gettext_lazy("From (date)"))
    until = forms.DateField(required=False, label=gettext_lazy("To (date, inclusive)"))

    def clean(self):
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", gettext_lazy("The end date is before the start date."))
        return data


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
def audit_log_view(request):
    """Administrators browse and filter the audit log."""
    policy.object_require(request.user, "audit_event", "view")
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.none()
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        actor_id = None
        if data.get("actor"):
            actor = get_user_model().objects.filter(email__iexact=data["actor"]).first()
            actor_id = actor.pk if actor else -1
        events = audit_events(
            actor_id=actor_id,
            action=data.get("action") or None,
            object_api_name=data.get("object") or None,
            since=_day_start(data["since"]) if data.get("since") else None,
            until=_day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
        )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=200 if not form.errors else 400,
    )
