from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MODULE = "loyalty"
# Objects of the module, as access control knows them. ``loyalty_account`` is the member
# (the name the seeded roles already grant); a ledger ``create`` is a manual adjustment.
OBJECTS = {
    "loyalty_account": "Loyalty member",
    "loyalty_ledger": "Points ledger entry",
    "loyalty_reward": "Loyalty reward",
    "loyalty_redemption": "Reward redemption",
}


class LoyaltyConfig(AppConfig):
    name = "crm.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty programme")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.access.principal import module_gate_register
        from tenants.access.registry import object_register

        fields = {
            "loyalty_account": (
                "number", "guest", "guest_name", "status", "tier", "tier_since", "balance",
                "lifetime_points", "qualifying_nights", "qualifying_stays",
                "qualifying_revenue", "enrolled_at", "updated",
            ),
            "loyalty_ledger": (
                "member", "kind", "source", "points", "remaining", "expires_on", "stay_on",
                "nights", "revenue", "reservation_id", "redemption", "reverses", "actor",
                "reason", "details", "created_at",
            ),
            "loyalty_reward": (
                "key", "name", "kind", "description", "points", "available_from",
                "available_until", "property_ids", "active",
            ),
            "loyalty_redemption": (
                "member", "reward", "points", "status", "property_id", "note", "reserved_at",
                "confirmed_at", "cancelled_at",
            ),
        }  # fmt: skip
        for api_name, label in OBJECTS.items():
            object_register(api_name, module=MODULE, label=label, fields=fields[api_name])
        # Switching the module off closes every door of its objects (403 module_disabled);
        # the data stays.
        module_gate_register(_module_gate)

        from crm.loyalty import events
        from metadata.events import record_event_subscribe

        events.webhook_event_types_register()
        record_event_subscribe(events.on_record_event)


def module_on() -> bool:
    """Is the module switched on for the connection's tenant? A catalogue module's switch
    is on the tenant row, so this reads no table (it runs for every reservation event)."""
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

        module_require(MODULE)  # raises module_disabled with the house's message
