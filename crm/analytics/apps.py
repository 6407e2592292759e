from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MODULE = "analytics"
# Objects of the module, as access control knows them. ``analytics_report`` stands for
# every report (its rows are figures, not records); ``churn_model`` is the training
# history an administrator reads.
OBJECTS = {
    "guest_score": "Guest score",
    "churn_model": "Churn model",
    "analytics_report": "Analytics report",
}


class AnalyticsConfig(AppConfig):
    name = "crm.analytics"
    label = "analytics"
    verbose_name = _("Analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.access.principal import module_gate_register
        from tenants.access.registry import object_register

        fields = {
            "guest_score": (
                "guest", "recency", "frequency", "monetary", "segment", "segment_label",
                "historical_value", "currency", "lifecycle", "churn_risk", "churn_source",
                "churn_reasons", "churn_model_version", "offers", "computed_at",
            ),
            "churn_model": (
                "version", "status", "trained_at", "cutoff", "horizon_months",
                "training_size", "positives", "report",
            ),
            "analytics_report": ("name", "filters", "currency", "columns", "rows"),
        }  # fmt: skip
        for api_name, label in OBJECTS.items():
            object_register(api_name, module=MODULE, label=label, fields=fields[api_name])
        # Switching the module off closes every door of its objects (403 module_disabled);
        # the data stays.
        module_gate_register(_module_gate)

        # Reservation writes keep the reports' rollup current.
        from crm.analytics import events
        from metadata.events import record_event_subscribe

        record_event_subscribe(events.on_record_event)

        # Workflows start when a warning threshold is crossed: on the guest
        # ({"type": "event", "event": "analytics_alert"}) or on the hotel.
        from metadata.workflows.registry import event_trigger_register

        event_trigger_register(
            "analytics_alert",
            object_api_name="guest",
            label="A guest crossed an analytics warning threshold (churn risk)",
        )
        event_trigger_register(
            "analytics_report_alert",
            object_api_name="property",
            label="A hotel's report measure crossed an analytics warning threshold",
        )


def module_on() -> bool:
    """Is the module switched on for the connection's tenant? (The switch is on the
    tenant row, so this reads no table.)"""
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
