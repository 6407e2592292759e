from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "tenants.access"
    label = "access"
    verbose_name = _("Access control and privacy")

    def ready(self) -> None:
        from tenants.access import registry

        # The access app's own objects, so roles can be granted on them like any other.
        registry.object_register("role", module="access", label="Role")
        registry.object_register("audit_event", module="access", label="Audit event")
        registry.object_register("temporary_grant", module="access", label="Temporary grant")

        from axes.signals import user_locked_out

        from tenants.access.login import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="access_audit_lockout")

        from django.contrib.auth.signals import user_logged_in

        from tenants.access.two_factor import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="access_failures_clear")
