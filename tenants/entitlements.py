"""What a tenant's plan allows. The billing layer (above) registers a provider in its
``AppConfig.ready()``; without one (billing off, the embedded default) every tenant is
unlimited. Lower layers ask here, never billing directly.

Limit keys: ``properties``, ``staff_users``, ``custom_fields_per_object``,
``api_requests_per_minute``."""

from __future__ import annotations

from typing import Any, Protocol

from tenants.errors import ApplicationError


class EntitlementProvider(Protocol):
    def module_allowed(self, tenant: Any, key: str) -> bool: ...

    def limit(self, tenant: Any, key: str) -> int | None: ...


class PlanLimitReached(ApplicationError):
    status_code = 403
    default_code = "plan_limit"


_provider: EntitlementProvider | None = None


def entitlement_provider_set(provider: EntitlementProvider | None) -> None:
    global _provider
    _provider = provider


def tenant_module_allowed(tenant: Any, key: str) -> bool:
    return True if _provider is None or tenant is None else _provider.module_allowed(tenant, key)


def tenant_limit(tenant: Any, key: str) -> int | None:
    """The plan's limit for ``key``; None means unlimited."""
    return None if _provider is None or tenant is None else _provider.limit(tenant, key)


def tenant_limit_check(*, tenant: Any, key: str, count: int, label: str | None = None) -> None:
    """Refuse adding one more when ``count`` already reaches the plan's limit."""
    limit = tenant_limit(tenant, key)
    if limit is not None and count >= limit:
        raise PlanLimitReached(
            f"Your plan allows {limit} {label or key.replace('_', ' ')}; upgrade to add more.",
            field=key,
        )
