import copy
import time

from django.conf import settings
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Tenant

# Host name -> (tenant row, when it was read). Reading the domain and tenant rows on
# every request cost a query and a search_path switch; a tenant's row changes rarely
# (status, settings), and a change made in this process clears the entry at once.
_hosts: dict[str, tuple[Tenant, float]] = {}


def tenant_hosts_forget(*_args, **_kwargs) -> None:
    """Forget every host now and again when the writing transaction commits (another
    thread may have read the old row in between)."""
    from django.db import transaction

    _hosts.clear()
    if _kwargs.get("sender") is not None:
        transaction.on_commit(_hosts.clear)


class TenantMiddleware(TenantMainMiddleware):
    """Resolves the tenant from the Host header. Unknown hosts get 404: never another
    tenant's data and never the public site. The template schema is never served.
    Resolutions are kept per process for ``ATRIUM_TENANT_HOST_CACHE_SECONDS``; other
    processes see a suspended or re-configured tenant within that time."""

    def get_tenant(self, domain_model, hostname):
        ttl = getattr(settings, "ATRIUM_TENANT_HOST_CACHE_SECONDS", 10)
        hit = _hosts.get(hostname)
        now = time.monotonic()
        if hit is not None and now - hit[1] < ttl:
            return copy.copy(hit[0])
        domain = (
            domain_model.objects.select_related("tenant")
            .exclude(tenant__kind=Tenant.Kind.TEMPLATE)
            .get(domain=hostname)
        )
        if len(_hosts) > 10_000:
            _hosts.clear()
        _hosts[hostname] = (domain.tenant, now)
        return copy.copy(domain.tenant)
