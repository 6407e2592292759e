"""``Idempotency-Key`` on API writes: the first answer to a POST/PATCH/PUT/DELETE is kept
for 24 hours and replayed for a retry with the same key and the same body; the same key
with a different body is refused (422), and a retry while the first is still running
gets 409. Keys belong to the credentials that sent them (an API key or a session)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from tenants.integrations.models import IdempotencyRecord

WRITES = ("POST", "PUT", "PATCH", "DELETE")
TTL = timedelta(hours=24)
MAX_KEY = 255


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"field": "Idempotency-Key", "code": code, "message": message}]},
        status=status,
    )


def _principal(request) -> str | None:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth:
        return "k:" + hashlib.sha256(auth.encode()).hexdigest()[:64]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get("Idempotency-Key")
        tenant = getattr(request, "tenant", None)
        if (
            key is None
            or request.method not in WRITES
            or not request.path.startswith("/api/")
            or tenant is None
            or tenant.schema_name == "public"
        ):
            return self.get_response(request)
        if not key.strip() or len(key) > MAX_KEY:
            return _error(400, "invalid", f"Use a key of 1 to {MAX_KEY} characters.")
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)  # unauthenticated: the view answers 401
        body_hash = hashlib.sha256(request.body).hexdigest()
        IdempotencyRecord.objects.filter(created__lt=timezone.now() - TTL).filter(
            principal=principal, key=key
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    body_hash=body_hash,
                )
        except IntegrityError:
            return self._replay(principal, key, request, body_hash)
        response = self.get_response(request)
        if response.status_code >= 500 or getattr(response, "streaming", False):
            record.delete()  # nothing settled: a retry may run again
            return response
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        record.status_code = response.status_code
        record.response_body = response.content.decode("utf-8", "replace")
        record.content_type = response.get("Content-Type", "")
        record.save(update_fields=["status_code", "response_body", "content_type"])
        return response

    @staticmethod
    def _replay(principal: str, key: str, request, body_hash: str):
        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is None:  # expired and purged in between
            return _error(409, "conflict", "This key was just reused; retry.")
        if (
            record.body_hash != body_hash
            or record.method != request.method
            or (record.path != request.path[:500])
        ):
            return _error(
                422,
                "idempotency_mismatch",
                "This Idempotency-Key was used for a different request; use a new key.",
            )
        if record.status_code == 0:
            return _error(409, "in_progress", "The first request with this key is still running.")
        response = HttpResponse(
            record.response_body, status=record.status_code, content_type=record.content_type
        )
        response["Idempotent-Replayed"] = "true"
        return response


def idempotency_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created__lt=timezone.now() - TTL).delete()
    return deleted
