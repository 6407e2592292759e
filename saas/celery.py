"""The Celery app. Every task runs in the schema of the tenant that queued it:
tenant-schemas-celery puts the schema name in the message headers when a task is sent
from inside a tenant context and switches the worker's connection before running it."""

import os

from celery import signals
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.local")

app = CeleryApp("atrium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task metrics and the task id in log lines, from Celery's signals.
import saas.observability.tasks  # noqa: E402,F401


@signals.worker_process_init.connect(dispatch_uid="atrium-worker-observability")
def _worker_observability(**_kwargs) -> None:
    # In each pool process, after the fork: the span exporter's thread does not survive
    # one. Does nothing unless OTEL_EXPORTER_OTLP_ENDPOINT or SENTRY_DSN is set.
    from saas.observability.tracing import observability_configure

    observability_configure(service_name="atrium-worker")
