"""Billing's answer to ``tenants.entitlements``: what the tenant's plan includes."""

from __future__ import annotations

from typing import Any

from billing.models import Subscription
from billing.services.stripe_sync import billing_enabled


class PlanEntitlements:
    def _plan(self, tenant: Any):
        if not billing_enabled():
            return None
        subscription = Subscription.objects.select_related("plan").filter(tenant=tenant).first()
        return subscription.plan if subscription else None

    def module_allowed(self, tenant: Any, key: str) -> bool:
        plan = self._plan(tenant)
        return plan is None or key in plan.modules

    def limit(self, tenant: Any, key: str) -> int | None:
        plan = self._plan(tenant)
        if plan is None:
            return None
        value = plan.limits.get(key)
        return int(value) if value is not None else None
