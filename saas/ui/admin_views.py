"""Tenant admin settings beyond the field designer: modules on/off, API keys, staff
users and their roles. Each write is one service call; refusals show its message."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metadata.services.modules import module_set_enabled, modules_available
from saas.ui.designer import admin_require
from saas.ui.errors import errors_by_field
from tenants.access.models import Role
from tenants.access.principal import Principal
from tenants.access.selectors import role_list
from tenants.access.services import user_roles_set
from tenants.errors import ApplicationError, NotFound
from tenants.integrations.models import ApiKey
from tenants.integrations.selectors import api_keys_list
from tenants.integrations.services import api_key_create, api_key_revoke
from tenants.modules import module_catalogue
from tenants.users.selectors import users_list
from tenants.users.services import user_create


def _messages_of(exc: ValidationError | ApplicationError) -> list[str]:
    return [m for messages_ in errors_by_field(exc).values() for m in messages_]


# --- modules ------------------------------------------------------------------------


@login_required
def modules_view(request):
    admin_require(request.user)
    if request.method == "POST":
        key = request.POST.get("key", "")
        try:
            module_set_enabled(
                key=key,
                enabled=request.POST.get("enabled") == "1",
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Modules saved."))
        return redirect("settings_modules")
    catalogue = module_catalogue()
    rows = [
        {
            "key": key,
            "label": _(catalogue[key].label) if key in catalogue else key,  # English kept
            "enabled": enabled,
            "core": key in catalogue and catalogue[key].core,
        }
        for key, enabled in sorted(modules_available().items())
    ]
    return render(request, "settings/modules.html", {"modules": rows})


# --- API keys -----------------------------------------------------------------------

SCOPE_CHOICES = ("*", "guests:read", "guests:write", "reservations:read", "reservations:write",
                 "sales:read", "sales:write")  # fmt: skip


@login_required
def api_keys_view(request):
    admin_require(request.user)
    errors: list[str] = []
    created = None
    values: dict[str, Any] = {"name": "", "scopes": [], "expires": ""}
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "scopes": request.POST.getlist("scopes"),
            "expires": request.POST.get("expires", ""),
        }
        expires_at = None
        try:
            if values["expires"]:
                try:
                    day = datetime.fromisoformat(values["expires"]).date()
                except ValueError:
                    raise ValidationError(
                        {"expires_at": "expires_at must be a date as YYYY-MM-DD."}
                    ) from None
                expires_at = timezone.make_aware(datetime.combine(day, time.max))
            created = api_key_create(
                name=values["name"],
                user=request.user,
                scopes=values["scopes"],
                expires_at=expires_at,
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = _messages_of(exc)
    return render(
        request,
        "settings/api_keys.html",
        {
            "keys": api_keys_list(),
            "created": created,
            "errors": errors,
            "values": values,
            "scope_choices": SCOPE_CHOICES,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def api_key_revoke_view(request, key_id: int):
    admin_require(request.user)
    key = ApiKey.objects.filter(pk=key_id).first()
    if key is None:
        raise NotFound(_("There is no such API key."), field="key")
    api_key_revoke(key=key, actor=Principal.from_request(request))
    messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("settings_api_keys")


# --- users and roles ----------------------------------------------------------------


@login_required
def users_view(request):
    admin_require(request.user)
    errors: list[str] = []
    created = None
    if request.method == "POST":
        try:
            user, password = user_create(
                email=request.POST.get("email", ""),
                full_name=request.POST.get("full_name", ""),
                roles=request.POST.getlist("roles"),
                actor=Principal.from_request(request),
            )
            created = {"email": user.email, "password": password}
        except (ValidationError, ApplicationError) as exc:
            errors = _messages_of(exc)
    return render(
        request,
        "settings/users.html",
        {"users": users_list(), "roles": role_list(), "created": created, "errors": errors},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def user_roles_view(request, user_id: int):
    admin_require(request.user)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("There is no such user."), field="user")
    try:
        user_roles_set(
            user=user,
            roles=Role.objects.filter(key__in=request.POST.getlist("roles")),
            actor=Principal.from_request(request),
        )
    except (ValidationError, ApplicationError) as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Roles of %(email)s saved.") % {"email": user.email})
    return redirect("settings_users")


# --- languages, currencies, time zone -----------------------------------------------


@login_required
def workspace_view(request):
    """The hotel group's languages, currencies and time zone."""
    from django.conf import settings as django_settings

    from tenants.context import current_tenant
    from tenants.services.workspace import tenant_settings_update

    admin_require(request.user)
    tenant = current_tenant()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            tenant = tenant_settings_update(
                tenant=tenant,
                enabled_languages=request.POST.getlist("languages"),
                default_language=request.POST.get("default_language", ""),
                enabled_currencies=request.POST.get("currencies", "").split(","),
                timezone=request.POST.get("timezone", ""),
            )
        except ValidationError as exc:
            errors = errors_by_field(exc)
        else:
            messages.success(request, _("Workspace settings saved."))
            return redirect("settings_workspace")
    import zoneinfo

    return render(
        request,
        "settings/workspace.html",
        {
            "tenant": tenant,
            "languages": django_settings.LANGUAGES,
            "timezones": sorted(zoneinfo.available_timezones()),
            "errors": errors,
            "values": request.POST if request.method == "POST" else None,
        },
        status=400 if errors else 200,
    )


# --- metadata templates -------------------------------------------------------------


@login_required
def templates_view(request):
    """Export this tenant's definitions; import a file or a shipped template, dry run
    first (the plan of creates, updates and conflicts), then apply."""
    import json

    from django.http import JsonResponse

    from metadata.services.templates import (
        blueprint_load,
        blueprint_names,
        metadata_export,
        metadata_import,
    )

    admin_require(request.user)
    if request.GET.get("download") == "1":
        response = JsonResponse(metadata_export(), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = 'attachment; filename="atrium-metadata.json"'
        return response
    report, errors, document = None, [], ""
    if request.method == "POST":
        document = request.POST.get("document", "")
        try:
            if request.FILES.get("file"):
                document = request.FILES["file"].read().decode("utf-8", errors="replace")
            if request.POST.get("blueprint"):
                data = blueprint_load(request.POST["blueprint"])
                document = json.dumps(data)
            else:
                try:
                    data = json.loads(document)
                except ValueError as exc:
                    raise ValidationError({"document": f"Not JSON: {exc}."}) from None
            report = metadata_import(
                data=data,
                dry_run=request.POST.get("apply") != "1",
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = _messages_of(exc)
        else:
            if not report["dry_run"]:
                messages.success(request, _("Template applied."))
                return redirect("settings_templates")
    return render(
        request,
        "settings/templates.html",
        {
            "blueprints": blueprint_names(),
            "report": report,
            "errors": errors,
            "document": document,
        },
        status=400 if errors else 200,
    )


# --- exchange rates -----------------------------------------------------------------


@login_required
def exchange_rates_view(request):
    """Dated rates from each enabled currency to the base currency (revenue in the base
    currency is computed with them)."""
    from decimal import Decimal, InvalidOperation

    from crm.selectors.operations import exchange_rates_list
    from crm.services.properties import exchange_rate_set
    from tenants.context import current_tenant

    admin_require(request.user)
    tenant = current_tenant()
    errors: list[str] = []
    if request.method == "POST":
        try:
            raw_rate = (request.POST.get("rate") or "").strip()
            raw_day = (request.POST.get("valid_from") or "").strip()
            problems = {}
            try:
                rate = Decimal(raw_rate)
                if not rate.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                problems["rate"] = _("%(value)s is not a number.") % {"value": raw_rate or "-"}
            try:
                day = datetime.fromisoformat(raw_day).date()
            except ValueError:
                problems["valid_from"] = _("%(value)s is not a date as YYYY-MM-DD.") % {
                    "value": raw_day or "-"
                }
            if problems:
                raise ValidationError(problems)
            exchange_rate_set(
                currency=request.POST.get("currency", ""),
                base_currency=tenant.base_currency,
                rate=rate,
                valid_from=day,
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = _messages_of(exc)
        else:
            messages.success(request, _("Exchange rate saved."))
            return redirect("settings_exchange_rates")
    return render(
        request,
        "settings/exchange_rates.html",
        {
            "rates": exchange_rates_list()[:200],
            "tenant": tenant,
            "currencies": [c for c in tenant.enabled_currencies if c != tenant.base_currency],
            "errors": errors,
            "values": request.POST,
        },
        status=400 if errors else 200,
    )


# --- webhooks -----------------------------------------------------------------------


@login_required
def webhooks_view(request):
    """Endpoints that receive signed events; the secret is shown once, at creation."""
    from tenants.integrations.selectors import webhook_endpoints_list
    from tenants.integrations.webhooks import webhook_endpoint_create, webhook_event_types

    admin_require(request.user)
    actor = Principal.from_request(request)
    errors: list[str] = []
    created = None
    values: dict[str, Any] = {"url": "", "description": "", "event_types": []}
    if request.method == "POST":
        values = {
            "url": request.POST.get("url", ""),
            "description": request.POST.get("description", ""),
            "event_types": request.POST.getlist("event_types"),
        }
        try:
            created = webhook_endpoint_create(actor=actor, **values)
        except (ValidationError, ApplicationError) as exc:
            errors = _messages_of(exc)
    return render(
        request,
        "settings/webhooks.html",
        {
            "endpoints": webhook_endpoints_list(actor=actor),
            "event_types": [("*", _("Every event")), *webhook_event_types().items()],
            "created": created,
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


@login_required
def webhook_detail_view(request, endpoint_id: int):
    """One endpoint: switch it on or off, rotate its secret, delete it, and its delivery
    log with every attempt; a failed delivery can be sent again."""
    from tenants.integrations.models import WebhookDelivery, WebhookEndpoint
    from tenants.integrations.selectors import webhook_deliveries_for
    from tenants.integrations.webhooks import (
        webhook_endpoint_delete,
        webhook_endpoint_update,
        webhook_redeliver,
    )

    admin_require(request.user)
    actor = Principal.from_request(request)
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("There is no such webhook endpoint."), field="endpoint")
    rotated = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "delete":
            webhook_endpoint_delete(actor=actor, endpoint=endpoint)
            messages.success(request, _("Endpoint deleted."))
            return redirect("settings_webhooks")
        if action in ("enable", "disable"):
            webhook_endpoint_update(actor=actor, endpoint=endpoint, enabled=action == "enable")
            messages.success(request, _("Endpoint saved."))
        elif action == "rotate":
            rotated = webhook_endpoint_update(
                actor=actor, endpoint=endpoint, rotate_secret=True
            ).secret
        elif action == "redeliver":
            delivery = WebhookDelivery.objects.filter(
                pk=request.POST.get("delivery") or 0, endpoint_id=endpoint.pk
            ).first()
            if delivery is None:
                raise NotFound(_("There is no such delivery."), field="delivery")
            try:
                webhook_redeliver(actor=actor, delivery=delivery)
            except ApplicationError as exc:  # built for an earlier subscriber
                messages.error(request, exc.message)
            else:
                messages.success(request, _("The delivery will be sent again."))
        if rotated is None:
            return redirect("settings_webhook", endpoint_id=endpoint.pk)
    return render(
        request,
        "settings/webhook_detail.html",
        {
            "endpoint": endpoint,
            "deliveries": webhook_deliveries_for(actor=actor, endpoint_id=endpoint.pk),
            "rotated": rotated,
        },
    )
