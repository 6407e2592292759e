from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Tenant


class TenantMiddleware(TenantMainMiddleware):
    """Resolves the tenant from the Host header. Unknown hosts get 404: never another
    tenant's data and never the public site. The template schema is never served."""

    def get_tenant(self, domain_model, hostname):
        domain = (
            domain_model.objects.select_related("tenant")
            .exclude(tenant__kind=Tenant.Kind.TEMPLATE)
            .get(domain=hostname)
        )
        return domain.tenant
