"""``Idempotency-Key`` on API writes: the first answer to a POST/PATCH/PUT/DELETE is kept
for 24 hours and replayed for a retry with the same key and the same body; the same key
with a different body is refused (422), and a retry while the first is still running
gets 409.

Only authenticated callers get this: the caller is authenticated here first, the way the
API will (a live API key, else a signed-in session), and records are keyed by that
caller (``k:<api key id>`` or ``u:<user id>``), so nobody can fill the table without
credentials, and no caller can ever be answered with another caller's response. Answers
given before the request ran (401, 403, 429) are not kept: a retry runs again."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from tenants.integrations.models import IdempotencyRecord
from tenants.integrations.services import AuthenticationFailed, api_key_authenticate

WRITES = ("POST", "PUT", "PATCH", "DELETE")
BEARER = "Bearer"  # the keyword of saas.api.auth.ApiKeyAuthentication
# Refused before the view did anything (credentials, rights, rate): nothing to replay.
NOT_KEPT = (401, 403, 429)
TTL = timedelta(hours=24)
MAX_KEY = 255


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"field": "Idempotency-Key", "code": code, "message": message}]},
        status=status,
    )


def _principal(request) -> str | None:
    """Who is calling, as the API will see it, or None when nobody is (the view then
    answers 401). Mirrors the API's authentication order: an ``Authorization: Bearer``
    header must be a live key (a bad one is a 401 even with a session); without one,
    the session's user."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith(f"{BEARER} "):
        try:
            key = api_key_authenticate(header[len(BEARER) + 1 :].strip())
        except AuthenticationFailed:
            return None
        return f"k:{key.pk}"
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
        if (
            response.status_code >= 500
            or response.status_code in NOT_KEPT
            or getattr(response, "streaming", False)
        ):
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
