from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Hotel CRM"

    def ready(self) -> None:
        from tenants.modules import Module, register_module

        for module in (
            Module("guests", str(_("Guests")), core=True),
            Module("reservations", str(_("Reservations")), core=True),
            Module("service", str(_("Service & complaints"))),
            Module("marketing", str(_("Marketing"))),
            Module("loyalty", str(_("Loyalty")), default_enabled=False),
            Module("sales", str(_("Sales & MICE"))),
            Module("analytics", str(_("Analytics"))),
        ):
            register_module(module)

        _register_builtin_objects()

        from crm.services.imports import JOB_KIND, import_job_handle
        from tenants.jobs.registry import register_job_kind

        register_job_kind(JOB_KIND, import_job_handle)


def _register_builtin_objects() -> None:
    """Tell the metadata engine which record types crm stores, so tenants can add custom
    fields to them (values go to each model's JSONB ``custom`` column)."""
    from metadata.registry import BuiltinObject, builtin_object_register

    for api_name, model, module, label, plural, icon in (
        ("property", "crm.Property", "guests", "Hotel", "Hotels", "building"),
        ("room_type", "crm.RoomType", "reservations", "Room type", "Room types", "bed"),
        ("rate_plan", "crm.RatePlan", "reservations", "Rate plan", "Rate plans", "tag"),
        ("guest", "crm.Guest", "guests", "Guest", "Guests", "user"),
        ("company", "crm.Company", "sales", "Company", "Companies", "briefcase"),
        (
            "reservation",
            "crm.Reservation",
            "reservations",
            "Reservation",
            "Reservations",
            "calendar",
        ),
    ):
        builtin_object_register(
            BuiltinObject(
                api_name=api_name,
                model=model,
                module=module,
                label=label,
                label_plural=plural,
                icon=icon,
            )
        )
