"""Health probes, answered before tenant resolution so they work on any host name.

- ``/healthz/live`` (liveness): the process answers; it checks nothing else, so a
  database outage never gets every web container restarted.
- ``/healthz/ready`` (readiness): the database, the Celery broker and the cache are
  reachable; 503 naming the one that failed, so a load balancer stops sending traffic.
- ``/healthz``: the readiness answer, kept for probes configured before the split.
"""

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


def _check_cache() -> dict:
    from django.core.cache import cache

    started = time.perf_counter()
    backend = type(cache).__name__
    try:
        # A round trip through the real server: a write, then the read of it.
        cache.set("healthz:probe", "1", timeout=10)
        if cache.get("healthz:probe") != "1":
            return {"ok": False, "backend": backend, "error": "The value written was not read."}
    except Exception as exc:  # any failure is the answer here
        return {"ok": False, "backend": backend, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "ok": True,
        "backend": backend,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def healthz_payload() -> tuple[dict, int]:
    """Readiness: every dependency a request may need, and which one failed."""
    checks = {"database": _check_database(), "broker": _check_broker(), "cache": _check_cache()}
    failed = [name for name, check in checks.items() if not check["ok"]]
    payload: dict = {"status": "error" if failed else "ok", **checks}
    if failed:
        payload["failed"] = failed
    return payload, 503 if failed else 200


READY_PATHS = ("/healthz", "/healthz/ready")
LIVE_PATH = "/healthz/live"


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not request.path.startswith("/healthz"):
            return self.get_response(request)
        if request.path == LIVE_PATH:
            request.metrics_route = "healthz/live"
            payload, status = {"status": "ok"}, 200
        elif request.path in READY_PATHS:
            request.metrics_route = request.path.lstrip("/")
            schema_public_set()
            payload, status = healthz_payload()
        else:
            return self.get_response(request)
        response = JsonResponse(payload, status=status)
        response["Cache-Control"] = "no-store"
        return response
