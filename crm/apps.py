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

        from crm.services.imports import JOB_KIND, import_job_handle
        from tenants.jobs.registry import register_job_kind

        register_job_kind(JOB_KIND, import_job_handle)
