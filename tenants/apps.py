from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants (hotel groups)"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tenants.middleware import tenant_hosts_forget
        from tenants.models import Domain, Tenant

        # A tenant or domain changed in this process: resolve hosts afresh.
        for model in (Tenant, Domain):
            post_save.connect(tenant_hosts_forget, sender=model, dispatch_uid=f"hosts-{model}")
            post_delete.connect(tenant_hosts_forget, sender=model, dispatch_uid=f"hosts-d-{model}")
