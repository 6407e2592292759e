"""Hotel groups (tenants) and their host names. These tables live in the public schema;
everything a hotel group owns lives in the tenant's own schema.

Tenant settings (currencies, languages, time zone, modules) are stored on the tenant row:
the request middleware already loads it, so every request has them without another query,
and platform operators can see them without entering the tenant's schema."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants import validators


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        HOTEL_GROUP = "hotel_group", "Hotel group"
        PLATFORM = "platform", "Platform (public schema)"
        TEMPLATE = "template", "Template schema"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HOTEL_GROUP)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TRIAL)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    base_currency = models.CharField(max_length=3, default="EUR")
    enabled_currencies = ArrayField(models.CharField(max_length=3), default=list, blank=True)
    default_language = models.CharField(max_length=10, default="en")
    enabled_languages = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    enabled_modules = ArrayField(models.CharField(max_length=50), default=list, blank=True)

    # Schemas are created by the provisioning service (cloned from the template inside
    # the same transaction as this row) and dropped by tenant_delete, never implicitly.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["trial", "active", "past_due", "suspended", "cancelled"]
                ),
                name="tenant_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def check(field: str, fn, value):
            try:
                return fn(value)
            except ValidationError as exc:
                errors.setdefault(field, []).append(exc)
                return value

        self.base_currency = check(
            "base_currency", validators.validate_currency, self.base_currency
        )
        self.enabled_currencies = [
            check("enabled_currencies", validators.validate_currency, c)
            for c in self.enabled_currencies
        ]
        if self.base_currency not in self.enabled_currencies:
            self.enabled_currencies = [self.base_currency, *self.enabled_currencies]
        self.default_language = check(
            "default_language", validators.validate_language, self.default_language
        )
        self.enabled_languages = [
            check("enabled_languages", validators.validate_language, code)
            for code in self.enabled_languages
        ]
        if self.default_language not in self.enabled_languages:
            self.enabled_languages = [self.default_language, *self.enabled_languages]
        self.timezone = check("timezone", validators.validate_timezone, self.timezone)
        self.enabled_modules = [
            check("enabled_modules", validators.validate_module, key)
            for key in self.enabled_modules
        ]
        if errors:
            raise ValidationError(errors)

    @property
    def is_hotel_group(self) -> bool:
        return self.kind == self.Kind.HOTEL_GROUP

    @property
    def is_read_only(self) -> bool:
        return self.status in {self.Status.SUSPENDED, self.Status.CANCELLED}


class Domain(DomainMixin):
    """A host name that routes to a tenant. ``domain`` is unique across the platform."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
