"""Reads of integration settings."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.integrations.models import ApiKey


def api_keys_list() -> QuerySet[ApiKey]:
    """Every API key of the tenant with its user, newest first (secrets are not stored)."""
    return ApiKey.objects.select_related("user").order_by("-created")


def webhook_endpoints_list() -> QuerySet:
    from tenants.integrations.models import WebhookEndpoint

    return WebhookEndpoint.objects.order_by("-created", "-pk")


def webhook_deliveries_for(*, endpoint_id: int, limit: int = 50) -> QuerySet:
    """The endpoint's latest deliveries with their attempt log, newest first."""
    from tenants.integrations.models import WebhookDelivery

    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .prefetch_related("log")
        .order_by("-created", "-pk")[:limit]
    )
