"""Outbound webhooks: subscriptions, signed deliveries, retries and the delivery log.

Signing follows the Standard Webhooks scheme: each POST carries ``webhook-id`` (the same
on every attempt of one message), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")),
where the key is the base64-decoded part of the endpoint's ``whsec_`` secret.

Endpoints are an administration door (``Principal.require_admin``), and each one acts for
the principal who subscribed: every event is built for that user, narrowed by the scopes
of the API key they used -- events of objects they cannot view are not delivered to the
endpoint at all, and record data is masked with their field rights.

Deliveries are created in the transaction that caused the event and sent by Celery after
it commits, only to addresses ``egress`` allows (checked when the URL is saved and again
on every attempt). A failed attempt is retried on RETRY_SCHEDULE (about 27 hours in all);
short waits ride on the task's countdown, long ones on the per-minute sweep, which claims
the rows it queues so that a backlog is never queued twice. An endpoint that fails
WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row is disabled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from prometheus_client import Counter

from tenants.access import registry
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import Conflict
from tenants.integrations import egress
from tenants.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Counted once the attempt's row is committed; "failed" deliveries were given up.
WEBHOOK_ATTEMPTS = Counter(
    "atrium_webhook_attempts_total",
    "Outbound webhook attempts, by result (ok: a 2xx answer; error: anything else).",
    ["result"],
)
WEBHOOK_DELIVERIES = Counter(
    "atrium_webhook_deliveries_total",
    "Outbound webhook deliveries that reached an outcome (succeeded, failed).",
    ["status"],
)


def _count_delivery(status: str) -> None:
    if status in ("succeeded", "failed"):
        transaction.on_commit(lambda: WEBHOOK_DELIVERIES.labels(status=status).inc())


# Seconds to wait after the 1st, 2nd, ... failed attempt; then the delivery has failed.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
COUNTDOWN_LIMIT = 5 * 60  # longer waits are picked up by the sweep
# A message queued longer ago than this is presumed lost (a broker restart, a purged
# queue), and the sweep queues its delivery again. It is longer than COUNTDOWN_LIMIT, so
# a retry waiting on its countdown is never queued a second time.
QUEUE_LEASE = timedelta(minutes=10)
SWEEP_BATCH = 1000
TIMEOUT = (5, 10)  # connect, read
USER_AGENT = "Atrium-Webhooks/1"

# Event types announced by the layers above (crm registers "guest.created", ...);
# tenant-defined objects add "<api_name>.created|updated|deleted" at run time.
_event_types: dict[str, str] = {}
RECORD_ACTIONS = ("created", "updated", "deleted")
_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_]+$")
# Event families that are not named after an object: "workflow.<name>" events are sent by
# workflow actions, and each one names the object its run was about when it is published.
NON_RECORD_FAMILIES = frozenset({"workflow"})
CUSTOM_KEY = "custom"


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

ADMIN_WHAT = "manage webhooks"


def _url_clean(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": ValidationError("A URL is required.", code="required")})
    url = url.strip()
    if len(url) > 500:
        raise ValidationError({"url": ValidationError("The URL is too long.", code="max_length")})
    try:
        egress.target_check(url, allow_private=settings.ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS)
    except egress.AddressRefused as refused:
        raise ValidationError(
            {"url": ValidationError(refused.message, code=refused.code)}
        ) from None
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


def _event_types_require_visible(actor: Principal, event_types: Iterable[str]) -> None:
    """403 naming ``event_types`` for a subscription to events the principal can never
    receive (``company.*`` through a key without the sales scope). ``*`` is allowed: it
    brings whatever the principal may view."""
    for value in event_types:
        family = value.split(".", 1)[0]
        if value == "*" or family in NON_RECORD_FAMILIES or actor.can(family, "view"):
            continue
        label = registry.object_spec(family).label or family
        raise AccessDenied(
            f"You may not view {label} records, so you cannot subscribe to {value}.",
            field="event_types",
        )


def _subscriber(actor: Principal) -> tuple[Any, list[str] | None]:
    """Who the endpoint will act for: the user, and the key's scopes (None: a session)."""
    if actor.is_system or actor.user_id is None:
        # Payloads are masked for a person's rights; the platform has none to mask with.
        raise ValueError("a webhook subscription acts for a user, not a system principal")
    return actor.user, None if actor.scopes is None else sorted(actor.scopes)


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor: Principal,
    url: str | None,
    event_types: list[str] | None,
    description: str = "",
) -> WebhookEndpoint:
    actor.require_admin(ADMIN_WHAT)
    user, scopes = _subscriber(actor)
    url = _url_clean(url)
    types = _event_types_clean(event_types)
    _event_types_require_visible(actor, types)
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        event_types=types,
        description=(description or "")[:200],
        secret=secret_generate(),
        subscribed_by=user,
        subscribed_scopes=scopes,
    )
    _endpoints_changed()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor: Principal,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    """Change an endpoint. Whoever points it somewhere else (its URL) or at other events
    becomes its subscriber, so they can only send onwards what they may read themselves;
    so does anyone who saves an endpoint that lost its subscriber."""
    actor.require_admin(ADMIN_WHAT)
    resubscribe = endpoint.subscribed_by_id is None
    if url is not None:
        url = _url_clean(url)
        resubscribe = resubscribe or url != endpoint.url
        endpoint.url = url
    if event_types is not None:
        types = _event_types_clean(event_types)
        resubscribe = resubscribe or types != list(endpoint.event_types)
        endpoint.event_types = types
    if resubscribe:
        user, scopes = _subscriber(actor)
        _event_types_require_visible(actor, endpoint.event_types)
        if (user.pk, scopes) != (endpoint.subscribed_by_id, endpoint.subscribed_scopes):
            # Deliveries already built carry the previous subscriber's view: they must
            # not go to an address the new one chose (see webhook_attempt).
            endpoint.subscription_version += 1
        endpoint.subscribed_by = user
        endpoint.subscribed_scopes = scopes
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
def webhook_endpoint_delete(*, actor: Principal, endpoint: WebhookEndpoint) -> None:
    actor.require_admin(ADMIN_WHAT)
    endpoint.delete()
    _endpoints_changed()


def webhook_payload_readable(*, actor: Principal, delivery: WebhookDelivery) -> bool:
    """May ``actor`` read this delivery's payload in the log? An administrator whose
    rights are not narrowed sees everything anyway; a narrowed API key only sees payloads
    built for itself (the same user and scopes, the current subscription)."""
    if actor.is_system or actor.scopes is None or "*" in actor.scopes:
        return actor.is_admin
    endpoint = delivery.endpoint
    return (
        delivery.subscription_version == endpoint.subscription_version
        and endpoint.subscribed_by_id == actor.user_id
        and sorted(endpoint.subscribed_scopes or []) == sorted(actor.scopes)
    )


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


def _masked(
    principal: Principal, object_api_name: str, record_id: Any, values: Mapping[str, Any]
) -> dict[str, Any]:
    """``principal.mask`` of ``values``, told the record's id so that an audited read of
    a sensitive field names the record; the id is not added to what is sent."""
    shown = principal.mask(object_api_name, {**values, "id": values.get("id", record_id)})
    if "id" not in values:
        shown.pop("id", None)
    return shown


def _changes_masked(
    principal: Principal, object_api_name: str, record_id: Any, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """``{field: {"old", "new"}}`` without the fields the principal cannot read; custom
    fields travel as one ``custom`` change of two dicts, filtered key by key."""
    custom = changes.get(CUSTOM_KEY)
    probe: dict[str, Any] = {k: None for k in changes if k not in (CUSTOM_KEY, "id")}
    old_custom: Mapping[str, Any] = {}
    new_custom: Mapping[str, Any] = {}
    if isinstance(custom, Mapping):
        old_custom = custom.get("old") or {}
        new_custom = custom.get("new") or {}
        probe[CUSTOM_KEY] = dict.fromkeys({*old_custom, *new_custom})
    # Through mask(), so reading a sensitive field's change is audited like any read.
    shown = _masked(principal, object_api_name, record_id, probe)
    out = {k: v for k, v in changes.items() if k != CUSTOM_KEY and k in shown}
    visible = set(shown.get(CUSTOM_KEY) or ())
    if visible:
        out[CUSTOM_KEY] = {
            "old": {k: v for k, v in old_custom.items() if k in visible},
            "new": {k: v for k, v in new_custom.items() if k in visible},
        }
    return out


def _data_for(
    principal: Principal,
    *,
    object_api_name: str | None,
    data: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    changes: Mapping[str, Any] | None,
    reveals: Iterable[str],
) -> dict[str, Any] | None:
    """The event's data as ``principal`` may see it, or None when it must not reach them
    at all."""
    if object_api_name is None:
        # Not about any record the policy could judge: for administrators only.
        return dict(data) if principal.is_admin else None
    if not principal.can(object_api_name, "view"):
        return None
    record_id = data.get("id")
    reveals = set(reveals)
    if reveals and not reveals <= set(
        _masked(principal, object_api_name, record_id, dict.fromkeys(reveals))
    ):
        return None  # the event itself is a field's value they cannot read
    out = dict(data)
    if record is not None:
        out["record"] = _masked(principal, object_api_name, record_id, record)
    if changes is not None:
        out["changes"] = _changes_masked(principal, object_api_name, record_id, changes)
        if changes and not out["changes"]:
            return None  # nothing they can see changed
    return out


def webhook_event_publish(
    *,
    event_type: str,
    object_api_name: str | None,
    data: Mapping[str, Any],
    record: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    reveals: Iterable[str] = (),
) -> int:
    """Queue ``event_type`` for every enabled endpoint subscribed to it; sent after the
    current transaction commits. Returns how many deliveries were queued.

    ``object_api_name`` is the object the event is about (None: no record; then only
    administrators' endpoints get it). Each endpoint's subscriber must be able to view
    it; ``record`` (added as ``data.record``) and ``changes`` (``data.changes``, ``{field:
    {"old", "new"}}``) are masked with the subscriber's field rights; ``reveals`` names
    fields whose values ``data`` itself carries (a status change): a subscriber who
    cannot read one of them does not get the event."""
    targets = [pk for pk, types in _enabled_endpoints() if _matches(types, event_type)]
    if not targets:
        return 0
    # The cache may be a few seconds old (or hold a row whose creation rolled back):
    # confirm against the table, with each subscriber, before writing rows.
    endpoints = list(
        WebhookEndpoint.objects.filter(
            pk__in=targets, enabled=True, subscribed_by__isnull=False
        ).select_related("subscribed_by")
    )
    if not endpoints:
        return 0
    timestamp = timezone.now().isoformat()
    now = timezone.now()
    # One payload per distinct subscriber, so a sensitive read is audited once each.
    built: dict[tuple[int | None, tuple[str, ...] | None], dict | None] = {}
    rows = []
    for endpoint in endpoints:
        scopes = endpoint.subscribed_scopes
        key = (endpoint.subscribed_by_id, None if scopes is None else tuple(sorted(scopes)))
        if key not in built:
            principal = Principal.of(endpoint.subscribed_by, scopes=scopes)
            shown = _data_for(
                principal,
                object_api_name=object_api_name,
                data=data,
                record=record,
                changes=changes,
                reveals=reveals,
            )
            built[key] = (
                None
                if shown is None
                else json.loads(
                    json.dumps(
                        {"type": event_type, "timestamp": timestamp, "data": shown},
                        cls=DjangoJSONEncoder,
                    )
                )
            )
        payload = built[key]
        if payload is None:
            continue
        rows.append(
            WebhookDelivery(
                endpoint_id=endpoint.pk,
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                payload=payload,
                subscription_version=endpoint.subscription_version,
                # Its message is queued when this transaction commits.
                queued_at=now,
            )
        )
    if not rows:
        return 0
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(ids: list[int], countdown: int = 0) -> None:
    from tenants.integrations.tasks import webhook_deliver

    for pk in ids:
        webhook_deliver.apply_async(args=[pk], countdown=countdown or None)


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> egress.Answer:
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
    # The address is checked again now: the name may point elsewhere than when saved.
    return egress.post(
        endpoint.url,
        body=body,
        headers=headers,
        allow_private=settings.ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS,
        timeout=TIMEOUT,
    )


def _give_up(delivery: WebhookDelivery, reason: str) -> WebhookDelivery:
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.last_error = reason
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "last_error", "next_attempt_at", "queued_at"])
    _count_delivery(delivery.status)
    return delivery


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one attempt of a delivery that is due; record it; schedule the next one.
    Returns None when there was nothing to do: delivered or given up, not due yet, or
    being sent by another worker right now (its row is locked), so a message queued twice
    sends once."""
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
        delivery.queued_at = None  # its message has arrived
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            return _give_up(delivery, "The endpoint is disabled.")
        if delivery.subscription_version != endpoint.subscription_version:
            return _give_up(
                delivery,
                "Not sent: it was built for an earlier subscriber of this endpoint.",
            )
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
        if wait is not None and wait <= COUNTDOWN_LIMIT:
            # Claimed for the sweep: this retry already has its message on the queue.
            delivery.queued_at = timezone.now()
            pk, countdown = delivery.pk, wait
            transaction.on_commit(lambda: _enqueue([pk], countdown=countdown))
        delivery.save()
        endpoint.save(
            update_fields=["consecutive_failures", "enabled", "disabled_at", "disabled_reason"]
        )
        result = "ok" if ok else "error"
        transaction.on_commit(lambda: WEBHOOK_ATTEMPTS.labels(result=result).inc())
        _count_delivery(delivery.status)
    return delivery


@transaction.atomic
def webhook_redeliver(*, actor: Principal, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (after the receiver was fixed), with the same webhook-id so
    the receiver can tell it is the same message."""
    actor.require_admin(ADMIN_WHAT)
    if delivery.subscription_version != delivery.endpoint.subscription_version:
        raise Conflict(
            "This delivery was built for an earlier subscriber of its endpoint; it is not "
            "sent to the endpoint's current address.",
            code="subscriber_changed",
            field="id",
        )
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = None
    delivery.queued_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at", "queued_at"])
    pk = delivery.pk
    transaction.on_commit(lambda: _enqueue([pk]))
    return delivery


def webhook_retries_due() -> int:
    """Queue the deliveries whose next attempt is due, and pending ones whose first
    message may have been lost (older than a minute), unless a message for them was
    queued within QUEUE_LEASE. Run every minute per tenant.

    The rows are claimed (``queued_at``) in the same transaction that picks them, with
    SKIP LOCKED, so neither a second sweep running at the same time nor the next minute's
    sweep queues them again while their message waits behind a backlog; rows being sent
    right now are skipped."""
    now = timezone.now()
    due = Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=now) | Q(
        status=WebhookDelivery.Status.PENDING, created__lte=now - timedelta(minutes=1)
    )
    not_queued = Q(queued_at__isnull=True) | Q(queued_at__lte=now - QUEUE_LEASE)
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(due & not_queued)
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
            transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)
