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
    "case_compensation": "Case compensation",
    "case_assignment_rule": "Case assignment rule",
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
            "case_compensation": (
                "case", "kind", "amount", "currency", "points", "note", "status",
                "requested_by", "decided_by", "decided_at", "decision_note", "created_at",
            ),
            "case_assignment_rule": (
                "name", "position", "property", "category", "priority", "agents", "active",
            ),
        }  # fmt: skip
        paths = {"survey_response": "property_id", "case_compensation": "case__property_id"}
        for api_name, label in OBJECTS.items():
            object_register(
                api_name,
                module=MODULE,
                label=label,
                fields=fields[api_name],
                # Answers belong to the hotel of the stay, compensation to the case's:
                # hotel-limited staff see theirs.
                property_path=paths.get(api_name),
            )
        module_gate_register(_module_gate)

        from crm.service import events
        from metadata.events import record_event_subscribe

        events.webhook_event_types_register()
        record_event_subscribe(events.on_record_event)

        # Guests' answers to case replies, handed over by the mail provider's hook.
        from anymail.signals import inbound

        from crm.service.services.messages import on_inbound_mail

        inbound.connect(on_inbound_mail, dispatch_uid="atrium.service.inbound")

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
