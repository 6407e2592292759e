"""Service cases: complaints, requests and feedback from any channel, assigned to an
owner and handled before a deadline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models.guests import Guest
from crm.models.properties import Property
from crm.models.reservations import Reservation


class Case(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        REQUEST = "request", _("Request")
        FEEDBACK = "feedback", _("Feedback")

    class Category(models.TextChoices):
        ROOM = "room", _("Room")
        SERVICE = "service", _("Service")
        FOOD_BEVERAGE = "fnb", _("Food & beverage")
        BILLING = "billing", _("Billing")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("case status", "New")
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        ESCALATED = "escalated", _("Escalated")
        WAITING_ON_GUEST = "waiting_on_guest", _("Waiting on guest")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")

    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    channel = models.CharField(max_length=20, blank=True)  # phone, email, web, app, social...
    guest = models.ForeignKey(
        Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cases",
    )
    deadline = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=models.Q(status__in=["open", "in_progress"]),
                name="crm_case_open_deadline_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.subject}"


# The status flow: where a case may go from each status. A case starts ``new`` or
# ``open``; nothing goes back to ``new``; a resolved or closed case comes back only as
# ``reopened`` (staff reopening it, or the guest answering by e-mail), so reopenings
# can be counted.
_WORKING = ("open", "in_progress", "escalated", "waiting_on_guest", "resolved", "closed")
CASE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": _WORKING,
    "open": _WORKING,
    "in_progress": _WORKING,
    "escalated": _WORKING,
    "waiting_on_guest": _WORKING,
    "reopened": _WORKING,
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
}
