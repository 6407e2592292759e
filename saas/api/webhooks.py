"""Outbound webhook subscriptions and their delivery log, for administrators.

API keys need the ``*`` scope: a subscription sees every event of the hotel group."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.errors import NotFound
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.integrations.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_event_types,
    webhook_redeliver,
)


class AdminsOnly(BasePermission):
    message = "Only administrators manage webhooks."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class EndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "secret",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "created",
        ]


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "error", "response_body", "duration_ms"]


class DeliveryOutput(serializers.ModelSerializer):
    log = AttemptOutput(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "message_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created",
            "delivered_at",
            "log",
        ]


def _body(request, allowed: set[str]) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    unknown = sorted(set(request.data) - allowed)
    if unknown:
        raise ValidationError({k: f"{k} is not a setting of a webhook." for k in unknown})
    return dict(request.data)


def _text(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError({key: "Give a string."})
    return value


def _endpoint(pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {pk}.", field="id")
    return endpoint


class EventTypeListApi(APIView):
    permission_classes = [AdminsOnly]

    def get(self, request):
        return Response(
            {
                "results": [
                    {"type": name, "description": text}
                    for name, text in webhook_event_types().items()
                ],
                "patterns": ["*", "<object>.*", "<object>.created|updated|deleted"],
            }
        )


class EndpointListApi(APIView):
    permission_classes = [AdminsOnly]

    def get(self, request):
        return Response({"results": EndpointOutput(WebhookEndpoint.objects.all(), many=True).data})

    def post(self, request):
        data = _body(request, {"url", "event_types", "description"})
        endpoint = webhook_endpoint_create(
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=_text(data, "description") or "",
        )
        return Response(EndpointOutput(endpoint).data, status=201)


class EndpointDetailApi(APIView):
    permission_classes = [AdminsOnly]

    def get(self, request, pk: int):
        return Response(EndpointOutput(_endpoint(pk)).data)

    def patch(self, request, pk: int):
        data = _body(request, {"url", "event_types", "description", "enabled", "rotate_secret"})
        for flag in ("enabled", "rotate_secret"):
            if flag in data and not isinstance(data[flag], bool):
                raise ValidationError({flag: "Give true or false."})
        endpoint = webhook_endpoint_update(
            endpoint=_endpoint(pk),
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=_text(data, "description"),
            enabled=data.get("enabled"),
            rotate_secret=bool(data.get("rotate_secret")),
        )
        return Response(EndpointOutput(endpoint).data)

    def delete(self, request, pk: int):
        webhook_endpoint_delete(endpoint=_endpoint(pk))
        return Response(status=204)


class DeliveryListApi(APIView):
    """The delivery log of one endpoint, newest first (``?status=failed`` to filter)."""

    permission_classes = [AdminsOnly]

    def get(self, request, pk: int):
        deliveries = WebhookDelivery.objects.filter(endpoint=_endpoint(pk))
        status = request.query_params.get("status")
        if status:
            if status not in WebhookDelivery.Status.values:
                raise ValidationError(
                    {"status": f"Use one of {', '.join(WebhookDelivery.Status.values)}."}
                )
            deliveries = deliveries.filter(status=status)
        rows = deliveries.prefetch_related("log")[:100]
        return Response({"results": DeliveryOutput(rows, many=True).data})


class RedeliverApi(APIView):
    permission_classes = [AdminsOnly]

    def post(self, request, pk: int):
        delivery = WebhookDelivery.objects.filter(pk=pk).first()
        if delivery is None:
            raise NotFound(f"No webhook delivery {pk}.", field="id")
        return Response(DeliveryOutput(webhook_redeliver(delivery=delivery)).data, status=202)
