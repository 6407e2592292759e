"""The service desk (module ``service``, crm's catalogue switch of cases)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MODULE = "service"
# Objects of the module, as access control knows them. Cases themselves are crm's
# ``case`` object (same module); their timers are read and paused with the case's rights.
OBJECTS = {
    "service_level": "Service level",
    "survey": "Survey",
    "survey_response": "Survey response",
}


class ServiceConfig(AppConfig):
    name = "crm.service"
    label = "service"
    verbose_name = _("Service desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.access.principal import module_gate_register
        from tenants.access.registry import object_register

        fields = {
            "service_level": (
                "category", "priority", "first_response_minutes", "resolution_minutes",
                "active", "updated",
            ),
            "survey": (
                "key", "title", "intro", "active", "link_days", "case_at_nps", "remind_after_days",
                "questions",
                "created", "updated",
            ),
            "survey_response": (
                "survey", "guest", "reservation", "property", "channel", "language", "nps",
                "csat", "comment", "ratings", "answers", "times_answered", "case",
                "submitted_at", "updated_at",
            ),
        }  # fmt: skip
        for api_name, label in OBJECTS.items():
            object_register(
                api_name,
                module=MODULE,
                label=label,
                fields=fields[api_name],
                # Answers belong to the hotel of the stay: hotel-limited staff see theirs.
                property_path="property_id" if api_name == "survey_response" else None,
            )
        module_gate_register(_module_gate)

        from crm.service import events
        from metadata.events import record_event_subscribe

        events.webhook_event_types_register()
        record_event_subscribe(events.on_record_event)

        from crm.service.workflows import register as workflows_register
        from metadata.workflows.registry import event_trigger_register

        workflows_register()

        # Workflows on cases can start when one misses a target:
        # {"type": "event", "event": "case_sla_breached"}.
        event_trigger_register(
            events.WORKFLOW_EVENT,
            object_api_name="case",
            label="A case missed its first-response or resolution target",
        )


def module_on() -> bool:
    from metadata.services.modules import module_enabled

    return module_enabled(MODULE)


def _module_gate(object_api_name: str) -> None:
    if object_api_name not in OBJECTS:
        return
    from django.db import connection

    if getattr(connection, "schema_name", "public") == "public":
        return
    from metadata.services.modules import module_require

    module_require(MODULE)
