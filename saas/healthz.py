"""``/healthz`` for load balancers and operators: answered before tenant resolution so it
works on any host name, reporting the database and the Celery broker as JSON."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from tenants.context import schema_public_set


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer here
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_broker() -> dict:
    from saas.celery import app

    started = time.perf_counter()
    transport = (settings.CELERY_BROKER_URL or "").split("://", 1)[0]
    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure is the answer here
        return {"ok": False, "transport": transport, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "ok": True,
        "transport": transport,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def healthz_payload() -> tuple[dict, int]:
    database = _check_database()
    broker = _check_broker()
    ok = database["ok"] and broker["ok"]
    return {"status": "ok" if ok else "error", "database": database, "broker": broker}, (
        200 if ok else 503
    )


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            schema_public_set()
            payload, status = healthz_payload()
            response = JsonResponse(payload, status=status)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
