"""Prometheus metrics of the web process and the Celery workers, and the ``/metrics`` view.

Labels stay bounded: a request is labelled with its URL *route* (``api/v1/guests/<int:pk>/``,
never the raw path), its status code and its tenant's plan code; a task with its name.
Tenants by status and the broker's queue depth are read when Prometheus scrapes, so
they are right whichever process answers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several workers, a prefork Celery
worker) prometheus_client keeps the values in files in that folder and the scrape adds
them up across processes; deploy/gunicorn.conf.py empties it at start and marks exited
workers dead.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# Buckets for web requests and for tasks: most requests take tens of milliseconds, while
# imports and index builds run for minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)

HTTP_REQUESTS = Counter(
    "atrium_http_requests_total",
    "HTTP requests answered, by URL route, method, status code and tenant plan.",
    ["route", "method", "status", "plan"],
)
HTTP_LATENCY = Histogram(
    "atrium_http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it, by URL route.",
    ["route", "method"],
    buckets=REQUEST_BUCKETS,
)
TASKS = Counter(
    "atrium_celery_tasks_total",
    "Celery tasks that ran to an end, by task name and final state.",
    ["task", "state"],
)
TASK_DURATION = Histogram(
    "atrium_celery_task_duration_seconds",
    "Run time of Celery tasks, by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)
TASK_FAILURES = Counter(
    "atrium_celery_task_failures_total",
    "Celery tasks that raised, by task name and exception class.",
    ["task", "exception"],
)

# Routes outside any URL conf (a 404 before resolution): one label, not one per path.
UNMATCHED_ROUTE = "<unmatched>"
NO_PLAN = "none"
_PLAN_TTL_SECONDS = 60
_plans: dict[int, tuple[str, float]] = {}


def request_route(request: HttpRequest) -> str:
    """The URL pattern that served the request (bounded), or a fixed stand-in."""
    fixed = getattr(request, "metrics_route", None)
    if fixed:
        return fixed
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return match.route or match.view_name or UNMATCHED_ROUTE


def tenant_plan(tenant) -> str:
    """The plan code of a hotel group's subscription ("none" without one), kept for a
    minute per process: one indexed read per tenant and minute, not one per request."""
    if tenant is None or getattr(tenant, "kind", None) != "hotel_group":
        return "platform" if tenant is not None else NO_PLAN
    now = time.monotonic()
    hit = _plans.get(tenant.pk)
    if hit is not None and now - hit[1] < _PLAN_TTL_SECONDS:
        return hit[0]
    from billing.models import Subscription

    try:
        code = (
            Subscription.objects.filter(tenant_id=tenant.pk)
            .values_list("plan__code", flat=True)
            .first()
        )
    except Exception:  # a metric label never breaks a request
        log.warning("metrics: plan of tenant %s not read", tenant.pk, exc_info=True)
        code = None
    if len(_plans) > 10_000:
        _plans.clear()
    _plans[tenant.pk] = (code or NO_PLAN, now)
    return code or NO_PLAN


def request_observe(request: HttpRequest, status: int, seconds: float) -> None:
    route = request_route(request)
    method = request.method if request.method in _METHODS else "OTHER"
    plan = tenant_plan(getattr(request, "tenant", None))
    HTTP_REQUESTS.labels(route=route, method=method, status=str(status), plan=plan).inc()
    HTTP_LATENCY.labels(route=route, method=method).observe(seconds)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# --- Scrape-time collectors -------------------------------------------------------------


class TenantStatusCollector:
    """Hotel groups by status, counted in the public tenants table at each scrape."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "atrium_tenants", "Hotel groups by subscription status.", labels=["status"]
        )
        from django.db.models import Count

        from tenants.models import Tenant

        try:
            counts = dict(
                Tenant.objects.filter(kind=Tenant.Kind.HOTEL_GROUP)
                .order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
            )
        except Exception:
            log.warning("metrics: tenants by status not read", exc_info=True)
            return
        for status in Tenant.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family


def _queue_names() -> list[str]:
    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery"}
    names.update(getattr(settings, "ATRIUM_METRICS_QUEUES", []) or [])
    return sorted(names)


class QueueDepthCollector:
    """Messages waiting in each Celery queue, read from Redis (``LLEN``) at each scrape.
    kombu keeps messages sent with a priority in lists of their own beside the queue's;
    they are added in. Other transports (the filesystem broker) report nothing."""

    # kombu's Redis transport: queue + "\\x06\\x16" + priority step, steps 0 (the plain
    # name), 3, 6 and 9.
    PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")

    def collect(self) -> Iterator[Metric]:
        url = settings.CELERY_BROKER_URL or ""
        if not url.startswith(("redis://", "rediss://")):
            return
        family = GaugeMetricFamily(
            "atrium_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        import redis

        try:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                with client.pipeline(transaction=False) as pipe:
                    names = _queue_names()
                    for name in names:
                        for suffix in self.PRIORITY_SUFFIXES:
                            pipe.llen(name + suffix)
                    lengths = pipe.execute()
            finally:
                client.close()
        except Exception:
            log.warning("metrics: queue depth not read from the broker", exc_info=True)
            return
        step = len(self.PRIORITY_SUFFIXES)
        for index, name in enumerate(names):
            family.add_metric([name], sum(lengths[index * step : (index + 1) * step]))
        yield family


class _ProcessRegistry:
    """This process's own metrics (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition_registry(*, scrape_time: bool = True) -> CollectorRegistry:
    """What one scrape reports: every process's metrics (from the multiprocess folder
    when set), then tenants by status and queue depth read now."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    if scrape_time:
        registry.register(TenantStatusCollector())
        registry.register(QueueDepthCollector())
    return registry


# --- The /metrics view ------------------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a client address inside
    METRICS_ALLOWED_NETWORKS. With neither configured nobody may scrape."""
    token = settings.METRICS_TOKEN or ""
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    networks = settings.METRICS_ALLOWED_NETWORKS or []
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        for network in networks:
            try:
                if address in ipaddress.ip_network(network, strict=False):
                    return True
            except ValueError:
                log.warning("metrics: %r in METRICS_ALLOWED_NETWORKS is no network", network)
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics`` on the platform's public host (the tenant URL conf has no such route).
    Off (404) until a token or networks are configured; 401 to a caller without them."""
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS):
        raise Http404("Metrics are not enabled.")
    if not scrape_allowed(request):
        response = HttpResponse("Unauthorised.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(exposition_registry())
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
