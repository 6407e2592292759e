from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MODULE = "marketing"
# Objects of the module as access control knows them. ``segment`` and ``campaign`` are
# the names the seeded marketing role already grants (access 0002).
OBJECTS = {
    "segment": "Segment",
    "campaign": "Campaign",
    "marketing_template": "E-mail template",
    "offer": "Offer and promo codes",
}
FIELDS = {
    "segment": (
        "name", "description", "kind", "definition", "include", "exclude", "count",
        "created_at", "updated_at",
    ),
    "campaign": (
        "name", "channel", "status", "segment", "template", "offer", "scheduled_at",
        "started_at", "finished_at", "frequency_cap_days", "holdout_percent",
        "attribution_days", "created_at",
        # Of its recipients (one row per guest) and of the suppression list.
        "guest", "variant", "reason", "language", "sent_at", "opened_at", "clicked_at",
        "address",
    ),
    "marketing_template": ("key", "name", "contents", "created_at", "updated_at"),
    "offer": (
        "key", "name", "description", "starts_at", "ends_at", "property_ids",
        "rate_plan_ids", "discount_kind", "discount_value", "currency", "active", "codes",
        "created_at",
        # Of its promo codes.
        "code", "kind", "max_uses", "uses", "campaign",
    ),
}  # fmt: skip


class MarketingConfig(AppConfig):
    name = "crm.marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.access.principal import module_gate_register
        from tenants.access.registry import object_register

        for api_name, label in OBJECTS.items():
            object_register(api_name, module=MODULE, label=label, fields=FIELDS[api_name])
        # Switching the module off closes every door of its objects (403
        # module_disabled); the data stays.
        module_gate_register(_module_gate)

        from crm.marketing import events

        events.webhook_event_types_register()

        from anymail.signals import tracking

        tracking.connect(events.on_provider_event, dispatch_uid="marketing.provider_event")


def module_on() -> bool:
    from tenants.context import current_tenant

    return MODULE in (getattr(current_tenant(), "enabled_modules", None) or ())


def _module_gate(object_api_name: str) -> None:
    if object_api_name not in OBJECTS:
        return
    from django.db import connection

    if getattr(connection, "schema_name", "public") == "public":
        return
    if not module_on():
        from metadata.services.modules import module_require

        module_require(MODULE)
