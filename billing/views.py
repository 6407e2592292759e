"""Public site (pricing, sign-up, Stripe webhook) and the tenant's billing screen."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.models import Plan, Subscription
from billing.services.signup import (
    SignupLinkInvalid,
    signup_complete,
    signup_link_open,
    signup_request,
    signup_url_for,
)
from billing.services.stripe_sync import (
    billing_enabled,
    checkout_session_create,
    portal_session_create,
    webhook_handle,
)
from tenants.errors import ApplicationError, Conflict
from tenants.ratelimit import RateLimited, client_ip


def pricing(request):
    return render(
        request,
        "billing/pricing.html",
        {"plans": Plan.objects.filter(public=True), "trial_days": settings.ATRIUM_TRIAL_DAYS},
    )


class SignupForm(forms.Form):
    name = forms.CharField(
        label=_("Hotel group name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=40,
        help_text=_("Lower-case letters, digits and hyphens; your address becomes <subdomain>."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    admin_email = forms.EmailField(
        label=_("Administrator's e-mail"),
        help_text=_("We send the link that creates the workspace to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    currency = forms.CharField(label=_("Base currency (ISO 4217)"), max_length=3, initial="EUR")
    languages = forms.CharField(
        label=_("Languages (comma separated, first is the default)"), initial="en"
    )


class SignupPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        help_text=_("At least 12 characters, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _refused(request, template: str, context: dict, exc: ApplicationError) -> HttpResponse:
    response = render(
        request, template, {**context, "refusal": exc.message}, status=exc.status_code
    )
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    """Messages next to their inputs; any other field's at the top, naming the field."""
    for key, messages in exc.message_dict.items():
        if key in form.fields:
            form.add_error(key, messages)
        else:
            form.add_error(None, [f"{key}: {m}" for m in messages])


def signup(request):
    """Step one: check the request and e-mail the link that creates the workspace."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            email = signup_request(
                name=data["name"],
                slug=data["slug"],
                admin_email=data["admin_email"],
                currency=data["currency"],
                languages=[x.strip() for x in data["languages"].split(",") if x.strip()],
                client_ip=client_ip(request),
                confirm_url=lambda token: request.build_absolute_uri(
                    reverse("signup_confirm", kwargs={"token": token})
                ),
            )
        except ApplicationError as exc:  # rate limited, or the mail could not go out
            return _refused(request, "billing/signup.html", {"form": form}, exc)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return render(
                request,
                "billing/signup_sent.html",
                {"email": email, "hours": settings.ATRIUM_SIGNUP_LINK_HOURS},
            )
    return render(
        request, "billing/signup.html", {"form": form}, status=400 if form.errors else 200
    )


def _link_problem(request, exc: ApplicationError) -> HttpResponse:
    """An unusable link (400) or one whose workspace exists already (409)."""
    return render(
        request, "billing/signup_confirm.html", {"problem": exc.message}, status=exc.status_code
    )


def signup_confirm(request, token: str):
    """Step two, only through the e-mailed link: the administrator chooses a password
    and the workspace is provisioned. A GET creates nothing (mail scanners follow
    links; they do not submit forms)."""
    try:
        data = signup_link_open(token)
    except (SignupLinkInvalid, Conflict) as exc:
        return _link_problem(request, exc)
    form = SignupPasswordForm(request.POST or None)
    context = {"form": form, "signup": data, "problem": None}
    if request.method == "POST" and form.is_valid():
        try:
            result = signup_complete(
                token=token,
                password1=form.cleaned_data["password1"],
                password2=form.cleaned_data["password2"],
                client_ip=client_ip(request),
            )
        except RateLimited as exc:
            return _refused(request, "billing/signup_confirm.html", context, exc)
        except (SignupLinkInvalid, Conflict) as exc:
            return _link_problem(request, exc)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return render(
                request,
                "billing/signup_done.html",
                {
                    "tenant": result.tenant,
                    "email": result.admin_email,
                    "url": signup_url_for(result.domain),
                },
            )
    return render(
        request, "billing/signup_confirm.html", context, status=400 if form.errors else 200
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        outcome = webhook_handle(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


def _admin_only(request):
    """The one administrator rule; a refusal is the styled 403 page of every screen."""
    from tenants.access.principal import Principal

    Principal.from_request(request).require_admin("manage billing")


@login_required
def tenant_billing(request):
    if (refused := _admin_only(request)) is not None:
        return refused
    return render(
        request,
        "billing/tenant_billing.html",
        {
            "enabled": billing_enabled(),
            "plans": Plan.objects.filter(public=True),
            "subscription": Subscription.objects.filter(tenant=request.tenant).first(),
        },
    )


@login_required
@require_POST
def tenant_checkout(request):
    if (refused := _admin_only(request)) is not None:
        return refused
    base = request.build_absolute_uri("/billing/")
    url = checkout_session_create(
        tenant=request.tenant,
        plan_code=request.POST.get("plan", ""),
        interval=request.POST.get("interval", "month"),
        success_url=f"{base}?done=1",
        cancel_url=base,
        email=request.user.email,
    )
    return redirect(url)


@login_required
@require_POST
def tenant_portal(request):
    if (refused := _admin_only(request)) is not None:
        return refused
    url = portal_session_create(
        tenant=request.tenant, return_url=request.build_absolute_uri("/billing/")
    )
    return redirect(url)
