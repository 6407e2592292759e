"""Plans and subscriptions of hotel groups. Shared tables in the public schema."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.models import Tenant


class Plan(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    # Module keys of tenants.modules included in the plan.
    modules = ArrayField(models.CharField(max_length=50), default=list)
    # properties, staff_users, custom_fields_per_object, api_requests_per_minute;
    # a missing key means unlimited.
    limits = models.JSONField(default=dict, blank=True)
    # [{"interval": "month", "currency": "EUR", "amount": "290.00", "stripe_price_id": ...}]
    prices = models.JSONField(default=list, blank=True)
    public = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    def price_for(self, *, interval: str, currency: str) -> dict | None:
        for price in self.prices:
            if price["interval"] == interval and price["currency"] == currency.upper():
                return price
        return None


class Subscription(models.Model):
    """The tenant's subscription as Stripe last described it."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(max_length=30, default="trialing")  # Stripe's vocabulary
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.status}"


class StripeEvent(models.Model):
    """Every webhook event received, by Stripe's id: a repeat is recognised and skipped."""

    id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=100)
    created = models.BigIntegerField()
    received = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
