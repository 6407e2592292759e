"""The outermost middleware: gives the request its id, times it, counts it and writes
one log line for it."""

from __future__ import annotations

import logging
import time

from saas.observability import logs, metrics

access_log = logging.getLogger("atrium.requests")


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = logs.request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = logs.request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            try:
                metrics.request_observe(request, response.status_code, seconds)
            except Exception:  # counting never breaks an answer
                access_log.warning("request not counted", exc_info=True)
            access_log.info(
                "%s %s %s",
                request.method,
                metrics.request_route(request),
                response.status_code,
                extra={
                    "method": request.method,
                    "route": metrics.request_route(request),
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            return response
        finally:
            logs.request_id_var.reset(token)
