"""Possible duplicate guests and the log of merges (with what undo needs)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.guests import Guest


class DuplicateSuggestion(models.Model):
    class Rule(models.TextChoices):
        EMAIL = "email", _("Same e-mail")
        PHONE = "phone", _("Same phone")
        NAME_BIRTH_DATE = "name_birth_date", _("Similar name, same birth date")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Not a duplicate")

    # guest_a.pk < guest_b.pk always, so a pair is stored once.
    guest_a = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="+")
    guest_b = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    score = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["guest_a", "guest_b", "rule"], name="duplicatesuggestion_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(guest_a__lt=models.F("guest_b")),
                name="duplicatesuggestion_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guest_a_id} ~ {self.guest_b_id} ({self.rule})"


class MergeLog(models.Model):
    survivor = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="merge_logs")
    merged_guest_id = models.BigIntegerField()
    # Everything undo needs: both profiles and every row that moved or was removed.
    snapshot = models.JSONField()
    user_id = models.BigIntegerField(null=True, blank=True)
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.merged_guest_id} -> {self.survivor_id}"
