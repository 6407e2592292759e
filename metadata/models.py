"""Definitions that shape each hotel group's CRM, stored in the tenant's own schema.

Labels and help texts are translated with django-modeltranslation (one column per
language of the fixed superset, see ``metadata/translation.py``); choice labels are kept
inside the field's ``choices`` JSON as ``{"value": ..., "labels": {"en": ..., ...}}``.
"""

from __future__ import annotations

from django.db import models


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal"
    MONEY = "money", "Money"
    PERCENT = "percent", "Percent"
    BOOLEAN = "boolean", "Boolean"
    DATE = "date", "Date"
    DATETIME = "datetime", "Date and time"
    CHOICE = "choice", "Choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    URL = "url", "URL"
    COUNTRY = "country", "Country"
    LANGUAGE = "language", "Language"
    REFERENCE = "reference", "Reference"


class ModuleDefinition(models.Model):
    """A module a tenant admin created for its own record types (built-in modules come
    from the code's catalogue in ``tenants.modules``)."""

    key = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    # Built-in modules are switched on the Tenant row; a tenant's own ones here.
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class ObjectDefinition(models.Model):
    """A record type: built-in (rows mirror what crm registered) or tenant-defined."""

    api_name = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=100)
    label_plural = models.CharField(max_length=100)
    icon = models.CharField(max_length=40, blank=True)
    color = models.CharField(max_length=7, blank=True)
    module = models.CharField(max_length=40)
    is_builtin = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["api_name"]

    def __str__(self) -> str:
        return self.api_name


class FieldDefinition(models.Model):
    class IndexStatus(models.TextChoices):
        NONE = "none", "Not indexed"
        PENDING = "pending", "Waiting to be built"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    object = models.ForeignKey(ObjectDefinition, on_delete=models.CASCADE, related_name="fields")
    api_name = models.SlugField(max_length=60)
    label = models.CharField(max_length=100)
    help_text = models.CharField(max_length=300, blank=True)
    type = models.CharField(max_length=20, choices=FieldType.choices)
    required = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    unique = models.BooleanField(default=False)
    # min_value, max_value, min_length, max_length, regex, decimal_places
    rules = models.JSONField(default=dict, blank=True)
    # [{"value": "gold", "labels": {"en": "Gold", "zh-hans": "金卡"}}, ...]
    choices = models.JSONField(default=list, blank=True)
    reference_object = models.CharField(max_length=60, blank=True)
    filterable = models.BooleanField(default=False)
    index_status = models.CharField(
        max_length=10, choices=IndexStatus.choices, default=IndexStatus.NONE
    )
    index_error = models.TextField(blank=True)
    sensitive = models.BooleanField(default=False)
    section = models.CharField(max_length=60, blank=True)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_id", "section", "position", "api_name"]
        constraints = [
            models.UniqueConstraint(fields=["object", "api_name"], name="field_api_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.object_id}.{self.api_name}"

    @property
    def index_name(self) -> str:
        return f"cf_{self.object_id}_{self.pk}_idx"


class Record(models.Model):
    """A record of a tenant-defined object: standard columns plus its values in ``data``."""

    object = models.ForeignKey(ObjectDefinition, on_delete=models.PROTECT, related_name="records")
    name = models.CharField(max_length=200, blank=True)
    # NULL, not "", when absent: the unique constraint must allow many records without one.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    owner_id = models.BigIntegerField(null=True, blank=True)  # a tenant user's id
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_id", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["object", "external_id"], name="record_external_id_unique"
            )
        ]
        indexes = [models.Index(fields=["object", "name"], name="record_object_name_idx")]

    def __str__(self) -> str:
        return self.name or f"{self.object_id}#{self.pk}"


class MetadataState(models.Model):
    """One row: the version of this tenant's definitions. Every change bumps it in the
    same transaction, so any process can tell whether its cached copy is current."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"metadata v{self.version}"


class MetadataChange(models.Model):
    """Audit of every definition change: who, when, what, before and after."""

    version = models.PositiveBigIntegerField()
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=130)  # "guest" or "guest.loyalty_tier"
    user_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version", "-pk"]
        indexes = [models.Index(fields=["target", "-version"], name="mdchange_target_idx")]

    def __str__(self) -> str:
        return f"v{self.version} {self.action} {self.target}"
