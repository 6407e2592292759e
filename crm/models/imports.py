"""Files uploaded for import, owned by the tenant and the user who uploaded them. An
import job names its upload by id, never by a path, so nothing outside the tenant's
upload folder can be read or deleted through a job."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from tenants.context import current_schema


class ImportUpload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    object_api_name = models.CharField(max_length=60)
    file_name = models.CharField(max_length=255)  # as the user named it (shown, never opened)
    suffix = models.CharField(max_length=5)  # ".csv" or ".xlsx"
    size = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)  # a tenant user's id
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.object_api_name})"

    @staticmethod
    def folder() -> Path:
        return Path(settings.MEDIA_ROOT) / "imports" / current_schema()

    @property
    def path(self) -> Path:
        """Where the bytes are: the tenant's folder and this row's own id."""
        return self.folder() / f"{self.pk.hex}{self.suffix}"
