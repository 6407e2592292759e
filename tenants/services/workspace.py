"""Changes of a hotel group's own settings by its administrators (languages, currencies,
time zone), validated like every write to the tenant row."""

from __future__ import annotations

from django.db import transaction

from tenants.models import Tenant


@transaction.atomic
def tenant_settings_update(
    *,
    tenant: Tenant,
    default_language: str | None = None,
    enabled_languages: list[str] | None = None,
    enabled_currencies: list[str] | None = None,
    timezone: str | None = None,
) -> Tenant:
    """Change the given settings. The default language is always enabled and the base
    currency always enabled (Tenant.clean adds them). Raises ValidationError keyed by
    setting, naming the bad code."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    changed = []
    if enabled_languages is not None:
        tenant.enabled_languages = list(dict.fromkeys(enabled_languages))
        changed.append("enabled_languages")
    if default_language is not None:
        tenant.default_language = default_language
        changed.append("default_language")
    if enabled_currencies is not None:
        codes = [code.strip().upper() for code in enabled_currencies if code.strip()]
        tenant.enabled_currencies = list(dict.fromkeys(codes))
        changed.append("enabled_currencies")
    if timezone is not None:
        tenant.timezone = timezone.strip()
        changed.append("timezone")
    tenant.clean()
    if changed:
        tenant.save(update_fields=[*changed, "enabled_languages", "enabled_currencies"])
    return tenant
