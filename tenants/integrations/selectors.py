"""Reads of integration settings."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.access.principal import Principal
from tenants.errors import NotFound
from tenants.integrations.models import ApiKey, WebhookDelivery, WebhookEndpoint

WEBHOOKS = "see webhooks"


def api_keys_list() -> QuerySet[ApiKey]:
    """Every API key of the tenant with its user, newest first (secrets are not stored)."""
    return ApiKey.objects.select_related("user").order_by("-created")


def webhook_endpoints_list(*, actor: Principal) -> QuerySet[WebhookEndpoint]:
    """Webhook endpoints are an administration door: reads need an administrator (and
    the ``admin:read`` scope through an API key)."""
    actor.require_admin(WEBHOOKS, write=False)
    return WebhookEndpoint.objects.order_by("-created", "-pk")


def webhook_endpoint_get(*, actor: Principal, pk) -> WebhookEndpoint:
    actor.require_admin(WEBHOOKS, write=False)
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {pk}.", field="id")
    return endpoint


def webhook_deliveries_for(
    *, actor: Principal, endpoint_id: int, limit: int = 50, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """The endpoint's latest deliveries with their attempt log, newest first."""
    actor.require_admin(WEBHOOKS, write=False)
    deliveries = WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
    if status:
        deliveries = deliveries.filter(status=status)
    return (
        deliveries.select_related("endpoint")
        .prefetch_related("log")
        .order_by("-created", "-pk")[:limit]
    )


def webhook_delivery_get(
    *, actor: Principal, pk, endpoint_id: int | None = None
) -> WebhookDelivery:
    actor.require_admin(WEBHOOKS, write=False)
    deliveries = WebhookDelivery.objects.select_related("endpoint").filter(pk=pk)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    delivery = deliveries.first()
    if delivery is None:
        raise NotFound(f"No webhook delivery {pk}.", field="id")
    return delivery
