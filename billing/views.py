"""Public site (pricing, sign-up, Stripe webhook) and the tenant's billing screen."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.models import Plan, Subscription
from billing.services.stripe_sync import (
    billing_enabled,
    checkout_session_create,
    portal_session_create,
    subscription_start_trial,
    webhook_handle,
)
from tenants.errors import ApplicationError


def pricing(request):
    return render(
        request,
        "billing/pricing.html",
        {"plans": Plan.objects.filter(public=True), "trial_days": settings.ATRIUM_TRIAL_DAYS},
    )


class SignupForm(forms.Form):
    name = forms.CharField(label=_("Hotel group name"), max_length=200)
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=40,
        help_text=_("Lower-case letters, digits and hyphens; your address becomes <subdomain>."),
    )
    admin_email = forms.EmailField(label=_("Administrator's e-mail"))
    currency = forms.CharField(label=_("Base currency (ISO 4217)"), max_length=3, initial="EUR")
    languages = forms.CharField(
        label=_("Languages (comma separated, first is the default)"), initial="en"
    )


def signup(request):
    from tenants.services.provisioning import tenant_create

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        slug = data["slug"].strip().lower()
        domain = f"{slug}.{settings.ATRIUM_PROVISIONING_DOMAIN_SUFFIX}"
        try:
            result = tenant_create(
                name=data["name"],
                slug=slug,
                domain=domain,
                admin_email=data["admin_email"],
                currency=data["currency"].strip().upper(),
                languages=[x.strip() for x in data["languages"].split(",") if x.strip()],
                status="trial",
            )
        except ValidationError as exc:
            fields = {
                "currency": "currency",
                "languages": "languages",
                "slug": "slug",
                "domain": "slug",
                "name": "name",
                "admin_email": "admin_email",
            }
            for key, messages in exc.message_dict.items():
                form.add_error(fields.get(key), messages)
        else:
            subscription_start_trial(tenant=result.tenant)
            return render(
                request,
                "billing/signup_done.html",
                {
                    "tenant": result.tenant,
                    "domain": domain,
                    "email": result.admin_email,
                    "password": result.one_time_password,
                },
            )
    return render(
        request, "billing/signup.html", {"form": form}, status=400 if form.errors else 200
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
