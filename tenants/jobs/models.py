"""Background jobs of a tenant (imports, index builds, diagnostics...), kept in the
tenant's schema so staff can see their status and outcome."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("job status", "Queued")
        RUNNING = "running", pgettext_lazy("job status", "Running")
        SUCCEEDED = "succeeded", pgettext_lazy("job status", "Succeeded")
        FAILED = "failed", pgettext_lazy("job status", "Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=60)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    payload = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Who runs it and until when: a running job names its worker (host:pid:claim) and
    # holds a lease its heartbeat renews; a queued one, the time by which a worker should
    # have taken it. The sweeper acts on leases that ran out (see job_sweep). The database
    # defaults keep inserts of code deployed before these columns working.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    locked_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Where a job that commits in chunks has got to (an import: the last committed row
    # and the report so far), written in the same transaction as each chunk, so a run
    # after a crash resumes there. None until the first chunk commits.
    checkpoint = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"
