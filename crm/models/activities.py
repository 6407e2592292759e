"""Notes, tasks, calls and e-mails logged against any record, built-in or custom, by
(object api name, record id), so one timeline serves every object."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Activity(models.Model):
    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        TASK = "task", _("Task")
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")

    class Direction(models.TextChoices):
        NONE = "", _("-")
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_api_name = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    occurred_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    # When the reminder went out (claimed by the sweep in the transaction that sends it).
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_activities",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(
                fields=["object_api_name", "record_id", "-occurred_at"],
                name="crm_activity_timeline_idx",
            ),
            # What the reminder sweep reads: open tasks whose reminder has not gone out.
            models.Index(
                fields=["reminder_at"],
                condition=models.Q(
                    kind="task",
                    completed_at__isnull=True,
                    reminder_at__isnull=False,
                    reminder_sent_at__isnull=True,
                ),
                name="crm_activity_reminders_due_idx",
            ),
            models.Index(
                fields=["assignee", "due_at"],
                condition=models.Q(kind="task", completed_at__isnull=True),
                name="crm_activity_open_tasks_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.object_api_name} {self.record_id}"
