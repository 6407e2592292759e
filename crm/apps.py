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
        _register_access_objects()

        from crm.services.imports import JOB_KIND, import_job_abandoned, import_job_handle
        from tenants.jobs.registry import register_job_kind

        register_job_kind(JOB_KIND, import_job_handle, abandoned=import_job_abandoned)

        from crm import webhooks
        from metadata.events import record_event_subscribe

        webhooks.event_types_register()
        record_event_subscribe(webhooks.on_record_event)

        from crm.workflows import register as workflows_register

        workflows_register()


def _register_builtin_objects() -> None:
    """Tell the metadata engine which record types crm stores, so tenants can add custom
    fields to them (values go to each model's JSONB ``custom`` column), and how the
    generic record doors read and write them (REST collection, search, writer)."""
    from crm.records import RELATED_LISTS, WRITERS
    from metadata.registry import BuiltinObject, builtin_object_register

    for api_name, model, module, label, plural, icon, collection, search in (
        ("property", "crm.Property", "guests", "Hotel", "Hotels", "building", "properties",
         ("name", "code")),
        ("room_type", "crm.RoomType", "reservations", "Room type", "Room types", "bed",
         "room-types", ("name", "code")),
        ("rate_plan", "crm.RatePlan", "reservations", "Rate plan", "Rate plans", "tag",
         "rate-plans", ("name", "code")),
        ("guest", "crm.Guest", "guests", "Guest", "Guests", "user", "guests",
         ("surname", "given_name", "email", "phone")),
        ("company", "crm.Company", "sales", "Company", "Companies", "briefcase", "companies",
         ("name",)),
        ("reservation", "crm.Reservation", "reservations", "Reservation", "Reservations",
         "calendar", "reservations", ("confirmation_number",)),
        ("case", "crm.Case", "service", "Case", "Cases", "life-buoy", "cases", ("subject",)),
    ):  # fmt: skip
        builtin_object_register(
            BuiltinObject(
                api_name=api_name,
                model=model,
                module=module,
                label=label,
                label_plural=plural,
                icon=icon,
                collection=collection,
                search_fields=search,
                writer=WRITERS[api_name],
                **RELATED_LISTS.get(api_name, {}),
            )
        )


def _register_access_objects() -> None:
    """Declare crm's objects, their modules and sensitive fields to access control, and
    let metadata's custom fields marked sensitive count as sensitive too."""
    from tenants.access.registry import catalogue_provider_register, object_register

    # Where each object's hotel is, for staff limited to some hotels. A guest belongs to
    # the hotels it booked at; a profile that booked nowhere yet is visible to all.
    for api_name, module, path in (
        ("property", "guests", "id"), ("room_type", "reservations", "property_id"),
        ("rate_plan", "reservations", "property_id"),
        ("guest", "guests", "reservations__property_id"), ("company", "sales", None),
        ("reservation", "reservations", "property_id"), ("case", "service", "property_id"),
    ):  # fmt: skip
        object_register(
            api_name, module=module, property_path=path, unattached_visible=api_name == "guest"
        )
    object_register(
        "guest",
        sensitive_fields=(
            "id_document_type",
            "id_document_number",
            "id_document_expiry",
            "id_document_country",
            "birth_date",
        ),
    )
    catalogue_provider_register(_metadata_catalogue)


def _metadata_catalogue():
    from django.db import connection

    from tenants.access.registry import ObjectSpec

    if getattr(connection, "schema_name", "public") == "public":
        return []
    from metadata.definitions import snapshot

    return [
        ObjectSpec(
            api_name=snap.api_name,
            module=snap.definition.module,
            fields=frozenset(snap.fields),
            sensitive_fields=frozenset(k for k, f in snap.fields.items() if f.sensitive),
        )
        for snap in snapshot().values()
    ]
