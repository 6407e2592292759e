"""Outbound webhooks: subscriptions, signed deliveries, retries and the delivery log.

Signing follows the Standard Webhooks scheme: each POST carries ``webhook-id`` (the same
on every attempt of one message), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")),
where the key is the base64-decoded part of the endpoint's ``whsec_`` secret.

Deliveries are created in the transaction that caused the event and sent by Celery after
it commits. A failed attempt is retried on RETRY_SCHEDULE (about 27 hours in all);
short waits ride on the task's countdown, long ones on the per-minute sweep. An endpoint
that fails WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row is disabled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from tenants.context import current_schema
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Seconds to wait after the 1st, 2nd, ... failed attempt; then the delivery has failed.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
COUNTDOWN_LIMIT = 5 * 60  # longer waits are picked up by the sweep
TIMEOUT = (5, 10)  # connect, read
USER_AGENT = "Atrium-Webhooks/1"

# Event types announced by the layers above (crm registers "guest.created", ...);
# tenant-defined objects add "<api_name>.created|updated|deleted" at run time.
_event_types: dict[str, str] = {}
RECORD_ACTIONS = ("created", "updated", "deleted")
_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_]+$")


def webhook_event_types_register(types: dict[str, str]) -> None:
    """``{"guest.merged": "Two guest profiles were merged", ...}``"""
    _event_types.update(types)


def webhook_event_types() -> dict[str, str]:
    return dict(sorted(_event_types.items()))


def _event_type_valid(value: str) -> bool:
    if value == "*" or value in _event_types:
        return True
    # "<object>.*" and the record actions of any object (tenant-defined ones included).
    if not _EVENT_RE.match(value.replace(".*", ".all")):
        return False
    return value.endswith(".*") or value.rsplit(".", 1)[1] in RECORD_ACTIONS


def _matches(patterns: Iterable[str], event_type: str) -> bool:
    prefix = event_type.split(".", 1)[0] + ".*"
    return any(p in ("*", event_type, prefix) for p in patterns)


def secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- subscriptions ----------------------------------------------------------------------


def _url_clean(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": ValidationError("A URL is required.", code="required")})
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"url": ValidationError("Give an http:// or https:// URL.", code="invalid")}
        )
    if len(url) > 500:
        raise ValidationError({"url": ValidationError("The URL is too long.", code="max_length")})
    if not settings.ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS:
        host = parts.hostname
        private = host == "localhost" or host.endswith(".localhost")
        try:
            ip = ipaddress.ip_address(host)
            private = private or not ip.is_global
        except ValueError:
            pass
        if private:
            raise ValidationError(
                {"url": ValidationError("Webhooks go to public addresses only.", code="private")}
            )
    return url


def _event_types_clean(value) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(
            {
                "event_types": ValidationError(
                    'Give a list of event types, e.g. ["guest.created"] or ["*"].',
                    code="required",
                )
            }
        )
    unknown = [v for v in value if not _event_type_valid(v)]
    if unknown:
        raise ValidationError(
            {
                "event_types": ValidationError(
                    f"Unknown event type: {', '.join(unknown)}.", code="invalid_choice"
                )
            }
        )
    return list(dict.fromkeys(value))


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        url=_url_clean(url),
        event_types=_event_types_clean(event_types),
        description=(description or "")[:200],
        secret=secret_generate(),
    )
    _endpoints_changed()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _url_clean(url)
    if event_types is not None:
        endpoint.event_types = _event_types_clean(event_types)
    if description is not None:
        endpoint.description = description[:200]
    if enabled is not None:
        if enabled and not endpoint.enabled:
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
        elif not enabled and endpoint.enabled:
            endpoint.disabled_reason = "Disabled by an administrator."
            endpoint.disabled_at = timezone.now()
        endpoint.enabled = enabled
    if rotate_secret:
        endpoint.secret = secret_generate()
    endpoint.save()
    _endpoints_changed()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
    _endpoints_changed()


# Enabled endpoints per schema, kept for a few seconds: every write in the CRM asks.
_cache: dict[str, tuple[float, list[tuple[int, tuple[str, ...]]]]] = {}
CACHE_SECONDS = 5.0


def _endpoints_changed() -> None:
    schema = current_schema()
    _cache.pop(schema, None)
    transaction.on_commit(lambda: _cache.pop(schema, None))


def _enabled_endpoints() -> list[tuple[int, tuple[str, ...]]]:
    schema = current_schema()
    hit = _cache.get(schema)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    rows = [
        (pk, tuple(types))
        for pk, types in WebhookEndpoint.objects.filter(enabled=True).values_list(
            "pk", "event_types"
        )
    ]
    _cache[schema] = (now + CACHE_SECONDS, rows)
    return rows


# --- publishing and delivery ------------------------------------------------------------


def webhook_event_publish(*, event_type: str, data: dict) -> int:
    """Queue ``event_type`` for every enabled endpoint subscribed to it; sent after the
    current transaction commits. Returns how many deliveries were queued."""
    targets = [pk for pk, types in _enabled_endpoints() if _matches(types, event_type)]
    if not targets:
        return 0
    # The cache may be a few seconds old (or hold a row whose creation rolled back):
    # confirm against the table before writing rows that point at it.
    targets = list(
        WebhookEndpoint.objects.filter(pk__in=targets, enabled=True).values_list("pk", flat=True)
    )
    if not targets:
        return 0
    payload = json.loads(
        json.dumps(
            {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data},
            cls=DjangoJSONEncoder,
        )
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=pk,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            payload=payload,
        )
        for pk in targets
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(ids: list[int], countdown: int = 0) -> None:
    from tenants.integrations.tasks import webhook_deliver

    for pk in ids:
        webhook_deliver.apply_async(args=[pk], countdown=countdown or None)


@dataclass
class _Answer:
    status_code: int | None
    body: str
    error: str
    duration_ms: int


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> _Answer:
    import requests

    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_sign(
            secret=endpoint.secret,
            message_id=delivery.message_id,
            timestamp=timestamp,
            body=body,
        ),
    }
    started = time.monotonic()
    try:
        response = requests.post(
            endpoint.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        return _Answer(None, "", f"{type(exc).__name__}: {exc}"[:300], _ms(started))
    return _Answer(response.status_code, response.text[:2000], "", _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one attempt of a delivery that is due; record it; schedule the next one.
    Returns None when there was nothing to do (delivered, not due, or taken by another
    worker)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                pk=delivery_id,
                status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            )
            .first()
        )
        now = timezone.now()
        if delivery is None or (
            delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1)
        ):
            return None
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = "The endpoint is disabled."
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
            return delivery
        answer = _post(endpoint, delivery)
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=answer.status_code,
            error=answer.error,
            response_body=answer.body,
            duration_ms=answer.duration_ms,
        )
        delivery.attempts += 1
        delivery.last_status_code = answer.status_code
        ok = answer.status_code is not None and 200 <= answer.status_code < 300
        delivery.last_error = "" if ok else (answer.error or f"HTTP {answer.status_code}")
        wait = None
        if ok:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            endpoint.consecutive_failures = 0
        else:
            endpoint.consecutive_failures += 1
            if delivery.attempts <= len(RETRY_SCHEDULE):
                wait = RETRY_SCHEDULE[delivery.attempts - 1]
                delivery.status = WebhookDelivery.Status.RETRYING
                delivery.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            else:
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.next_attempt_at = None
            if endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
                endpoint.enabled = False
                endpoint.disabled_at = timezone.now()
                endpoint.disabled_reason = (
                    f"Disabled after {endpoint.consecutive_failures} failed attempts in a row."
                )
                _endpoints_changed()
        delivery.save()
        endpoint.save(
            update_fields=["consecutive_failures", "enabled", "disabled_at", "disabled_reason"]
        )
        if wait is not None and wait <= COUNTDOWN_LIMIT:
            transaction.on_commit(lambda: _enqueue([delivery.pk], countdown=wait))
    return delivery


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (after the receiver was fixed), with the same webhook-id so
    the receiver can tell it is the same message."""
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "next_attempt_at"])
    pk = delivery.pk
    transaction.on_commit(lambda: _enqueue([pk]))
    return delivery


def webhook_retries_due() -> int:
    """Queue the deliveries whose next attempt is due, and pending ones whose first
    message may have been lost (older than a minute). Run every minute per tenant."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    ) + list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, created__lte=now - timedelta(minutes=1)
        ).values_list("pk", flat=True)[:1000]
    )
    _enqueue(due)
    return len(due)
