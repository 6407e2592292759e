"""The Celery app. Every task runs in the schema of the tenant that queued it:
tenant-schemas-celery puts the schema name in the message headers when a task is sent
from inside a tenant context and switches the worker's connection before running it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.local")

app = CeleryApp("atrium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
