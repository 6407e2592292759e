"""Who changed which field of which record, from what to what; and privacy requests."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordChange(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        MERGE = "merge", _("Merged")
        UNMERGE = "unmerge", _("Merge undone")
        ERASE = "erase", _("Erased")
        IMPORT = "import", _("Imported")

    object_api_name = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.UPDATE)
    field = models.CharField(max_length=100, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    # The user's id, not a foreign key: the trail outlives users.
    user_id = models.BigIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(
                fields=["object_api_name", "record_id", "-changed_at"], name="crm_change_record_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_api_name} {self.record_id} {self.action} {self.field}"


class PrivacyRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASE = "erase", _("Erasure")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    guest_id = models.BigIntegerField()
    user_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.kind} of guest {self.guest_id}"
