"""Outbound webhook subscriptions and their delivery log: an administration door.

Reads need an administrator (``admin:read`` through an API key), writes ``admin:write``;
the principal decides (the one administrator rule, never ``is_staff``). A subscription
acts for whoever made it: see ``tenants.integrations.webhooks``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from saas.api.openapi import json_body, page, text
from saas.api.permissions import AdminOnly
from tenants.access.principal import Principal
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.integrations.selectors import (
    webhook_deliveries_for,
    webhook_delivery_get,
    webhook_endpoint_get,
    webhook_endpoints_list,
)
from tenants.integrations.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_event_types,
    webhook_payload_readable,
    webhook_redeliver,
)


class WebhooksApi(APIView):
    # The administration door (instead of the module-scope check: webhooks belong to no
    # module); the services and selectors behind it ask the principal again.
    permission_classes = [AdminOnly]

    @property
    def actor(self) -> Principal:
        return Principal.from_request(self.request)


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
            "subscribed_by",
            "subscribed_scopes",
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


ENDPOINT_WRITE = {
    "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2000},
    "event_types": {"type": "array", "items": text(100, min_length=1), "minItems": 1},
    "description": text(),
}


def _page_of(name: str, serializer) -> serializers.Serializer:
    return inline_serializer(name=name, fields={"results": serializer(many=True)})


class EventTypeListApi(WebhooksApi):
    @extend_schema(
        responses={
            200: {
                "type": "object",
                "properties": {
                    "results": page(
                        {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "description": {"type": "string"},
                            },
                        }
                    )["properties"]["results"],
                    "patterns": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    )
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


class EndpointListApi(WebhooksApi):
    @extend_schema(responses={200: _page_of("WebhookEndpointPage", EndpointOutput)})
    def get(self, request):
        endpoints = webhook_endpoints_list(actor=self.actor)
        return Response({"results": EndpointOutput(endpoints, many=True).data})

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "required": ["url", "event_types"],
                "additionalProperties": False,
                "properties": ENDPOINT_WRITE,
            }
        ),
        responses={201: EndpointOutput},
    )
    def post(self, request):
        data = _body(request, {"url", "event_types", "description"})
        endpoint = webhook_endpoint_create(
            actor=self.actor,
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=_text(data, "description") or "",
        )
        return Response(EndpointOutput(endpoint).data, status=201)


class EndpointDetailApi(WebhooksApi):
    @extend_schema(responses={200: EndpointOutput})
    def get(self, request, pk: int):
        return Response(EndpointOutput(webhook_endpoint_get(actor=self.actor, pk=pk)).data)

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    **ENDPOINT_WRITE,
                    "enabled": {"type": "boolean"},
                    "rotate_secret": {"type": "boolean"},
                },
            }
        ),
        responses={200: EndpointOutput},
    )
    def patch(self, request, pk: int):
        data = _body(request, {"url", "event_types", "description", "enabled", "rotate_secret"})
        for flag in ("enabled", "rotate_secret"):
            if flag in data and not isinstance(data[flag], bool):
                raise ValidationError({flag: "Give true or false."})
        endpoint = webhook_endpoint_update(
            actor=self.actor,
            endpoint=webhook_endpoint_get(actor=self.actor, pk=pk),
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=_text(data, "description"),
            enabled=data.get("enabled"),
            rotate_secret=bool(data.get("rotate_secret")),
        )
        return Response(EndpointOutput(endpoint).data)

    def delete(self, request, pk: int):
        actor = self.actor
        webhook_endpoint_delete(actor=actor, endpoint=webhook_endpoint_get(actor=actor, pk=pk))
        return Response(status=204)


def _deliveries_out(actor: Principal, deliveries) -> list[dict]:
    """A narrowed API key reads only the payloads that were built for itself; the log of
    attempts is shown either way."""
    out = []
    for delivery, row in zip(deliveries, DeliveryOutput(deliveries, many=True).data, strict=True):
        if not webhook_payload_readable(actor=actor, delivery=delivery):
            row["payload"] = None
        out.append(row)
    return out


class DeliveryListApi(WebhooksApi):
    """The delivery log of one endpoint, newest first (``?status=failed`` to filter)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(WebhookDelivery.Status.values), required=False
            )
        ],
        responses={200: _page_of("WebhookDeliveryPage", DeliveryOutput)},
    )
    def get(self, request, pk: int):
        actor = self.actor
        endpoint = webhook_endpoint_get(actor=actor, pk=pk)
        status = request.query_params.get("status")
        if status and status not in WebhookDelivery.Status.values:
            raise ValidationError(
                {"status": f"Use one of {', '.join(WebhookDelivery.Status.values)}."}
            )
        rows = list(
            webhook_deliveries_for(actor=actor, endpoint_id=endpoint.pk, limit=100, status=status)
        )
        return Response({"results": _deliveries_out(actor, rows)})


class RedeliverApi(WebhooksApi):
    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request, pk: int):
        actor = self.actor
        delivery = webhook_redeliver(actor=actor, delivery=webhook_delivery_get(actor=actor, pk=pk))
        return Response(_deliveries_out(actor, [delivery])[0], status=202)
