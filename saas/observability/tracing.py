"""OpenTelemetry traces and Sentry error reports, each set up only when configured.

Nothing here imports opentelemetry or sentry_sdk unless ``OTEL_EXPORTER_OTLP_ENDPOINT``
or ``SENTRY_DSN`` is set, so tests and installations without them pay nothing. Called
from the WSGI/ASGI entry points and the Celery app (not from settings: instrumenting
psycopg must happen before the first connection, and once per process).
"""

from __future__ import annotations

import os

_done = {"otel": False, "sentry": False}


def tracing_configure(*, service_name: str) -> bool:
    """Trace requests (Django), SQL (psycopg) and Celery tasks to the OTLP endpoint in
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` (HTTP/protobuf). The exporter reads the other
    standard ``OTEL_*`` variables itself (headers, sampler, resource attributes)."""
    if _done["otel"] or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    # Statements are recorded without their parameters (guests' personal data).
    PsycopgInstrumentor().instrument(enable_commenter=False)
    CeleryInstrumentor().instrument()
    _done["otel"] = True
    return True


def sentry_configure() -> bool:
    """Report unhandled errors to Sentry when ``SENTRY_DSN`` is set. No personal data is
    sent (``send_default_pii`` off); the tenant schema goes along as a tag."""
    dsn = os.environ.get("SENTRY_DSN")
    if _done["sentry"] or not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    def tag_tenant(event, _hint):
        from saas.observability.logs import _tenant, request_id_var

        schema, _slug = _tenant()
        tags = event.setdefault("tags", {})
        if schema:
            tags["tenant_schema"] = schema
        if request_id_var.get():
            tags["request_id"] = request_id_var.get()
        return event

    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=tag_tenant,
    )
    _done["sentry"] = True
    return True


def observability_configure(*, service_name: str) -> None:
    tracing_configure(service_name=service_name)
    sentry_configure()
