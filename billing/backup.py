"""Billing's public rows in a tenant export: the subscription, its plan by code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billing.models import Plan, Subscription
from tenants.models import Tenant

_TIMES = ("trial_end", "current_period_end", "past_due_since", "cancelled_at")


class SubscriptionRows:
    key = "billing.subscription"

    def export(self, tenant: Tenant) -> Any:
        subscription = (
            Subscription.objects.select_related("plan").filter(tenant_id=tenant.pk).first()
        )
        if subscription is None:
            return None
        return {
            "plan": subscription.plan.code if subscription.plan else None,
            "status": subscription.status,
            "stripe_customer_id": subscription.stripe_customer_id,
            "stripe_subscription_id": subscription.stripe_subscription_id,
            **{
                name: value.isoformat() if (value := getattr(subscription, name)) else None
                for name in _TIMES
            },
        }

    def restore(self, tenant: Tenant, data: Any) -> list[str]:
        notes = []
        plan = Plan.objects.filter(code=data["plan"]).first() if data["plan"] else None
        if data["plan"] and plan is None:
            notes.append(f"Plan {data['plan']} does not exist here: subscription has no plan.")
        customer, stripe_id = data["stripe_customer_id"], data["stripe_subscription_id"]
        # A copy beside a live original must not share its Stripe subscription: Stripe's
        # events would change both tenants.
        if stripe_id and Subscription.objects.filter(stripe_subscription_id=stripe_id).exists():
            notes.append(
                f"Stripe subscription {stripe_id} belongs to another tenant here: not linked."
            )
            customer, stripe_id = "", ""
        Subscription.objects.create(
            tenant=tenant,
            plan=plan,
            status=data["status"],
            stripe_customer_id=customer,
            stripe_subscription_id=stripe_id,
            **{
                name: datetime.fromisoformat(data[name]) if data.get(name) else None
                for name in _TIMES
            },
        )
        return notes
