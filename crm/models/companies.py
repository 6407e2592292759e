"""Accounts: corporate clients, travel agents and MICE organisers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.guests import Guest


class Company(models.Model):
    class Kind(models.TextChoices):
        CORPORATE = "corporate", _("Corporate")
        TRAVEL_AGENT = "travel_agent", _("Travel agent")
        MICE = "mice", _("MICE organiser")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CORPORATE)
    # Upsert key for imports and integrations (e.g. the PMS profile id of the account).
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    iata_number = models.CharField(max_length=20, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    website = models.URLField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class CompanyContact(models.Model):
    """A guest's relationship with an account: its contact person, booker, travel
    manager or simply an employee who stays with us."""

    class Role(models.TextChoices):
        CONTACT = "contact", _("Contact")
        BOOKER = "booker", _("Booker")
        TRAVEL_MANAGER = "travel_manager", _("Travel manager")
        EMPLOYEE = "employee", _("Employee")
        ASSISTANT = "assistant", _("Assistant")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="company_links")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CONTACT)
    title = models.CharField(max_length=100, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["company", "-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "guest", "role"], name="companycontact_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.guest_id} @ {self.company_id}"
