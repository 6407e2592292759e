"""API keys of a hotel group's integrations (PMS, booking engines, BI), in its schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ApiKey(models.Model):
    name = models.CharField(max_length=100)
    # Shown in lists and logs so staff can tell keys apart; the secret is never stored.
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=60), default=list)
    # The key acts with this user's rights, narrowed by its scopes.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key``, replayed for 24 h."""

    principal = models.CharField(max_length=80)  # whose key: a hash of the credentials
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)  # 0 while in flight
    response_body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique")
        ]
        indexes = [models.Index(fields=["created"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookEndpoint(models.Model):
    """A URL of an integrator's that hears about this hotel group's events."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Event types such as "guest.created" or "reservation.status_changed"; "*" for all.
    event_types = ArrayField(models.CharField(max_length=80), default=list)
    # Standard Webhooks secret: "whsec_" + base64 of the key bytes. Shown to the admin.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Failed attempts in a row; any success resets it. Past the limit the endpoint is
    # disabled so a dead receiver does not keep the workers busy.
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Who subscribed. Each event is built for this user, narrowed by the scopes of the API
    # key they subscribed through (None: a browser session, not narrowed), so a webhook
    # never carries what its subscriber could not read. No subscriber (the user was
    # deleted): nothing is delivered.
    subscribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subscribed_scopes = ArrayField(models.CharField(max_length=60), null=True, blank=True)
    # Raised whenever the subscriber changes: a delivery built for an earlier subscriber is
    # never sent to an address the new one chose (see WebhookDelivery.subscription_version).
    subscription_version = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: signed once, attempted until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    # The Standard Webhooks "webhook-id": the same on every attempt, so receivers can
    # drop duplicates.
    message_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=80)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The endpoint's subscription_version the payload was masked for.
    subscription_version = models.PositiveIntegerField(default=0)
    # When a message for this delivery was last put on the queue. The retry sweep only
    # queues rows whose message is older than its lease, so a backlog is not queued twice.
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx"),
            models.Index(fields=["endpoint", "-created"], name="webhook_endpoint_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} [{self.status}]"


class WebhookAttempt(models.Model):
    """The delivery log: each POST with its answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_body = models.TextField(blank=True)  # the first 2 kB
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"
