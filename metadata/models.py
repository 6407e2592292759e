"""Definitions that shape each hotel group's CRM, stored in the tenant's own schema.

Labels and help texts are translated with django-modeltranslation (one column per
language of the fixed superset, see ``metadata/translation.py``); choice labels are kept
inside the field's ``choices`` JSON as ``{"value": ..., "labels": {"en": ..., ...}}``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
    # Lists filtered by this field and sorted by another: the index holds both (this
    # field, then that one descending, empty values last), so such a page is one index
    # range instead of a sort. "" for an index of this field alone.
    index_sort_field = models.CharField(max_length=60, blank=True, default="")
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
        suffix = f"_s_{self.index_sort_field}" if self.index_sort_field else ""
        return f"cf_{self.object_id}_{self.pk}{suffix}_idx"[:63]

    @property
    def index_prefix(self) -> str:
        """Every index of this field, whatever its companion, is named so."""
        return f"cf_{self.object_id}_{self.pk}_"


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


# --- Workflows ---------------------------------------------------------------------------
# A workflow is metadata like a field: rows in the tenant's schema, versioned. Each edit
# of what it does (trigger, conditions, actions) writes a new immutable WorkflowVersion;
# runs point at the version they started with, so runs in flight keep theirs.


class Workflow(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)  # translated (metadata/translation.py)
    description = models.TextField(blank=True)
    object_api_name = models.CharField(max_length=60, blank=True)  # "" for pure schedules
    trigger_type = models.CharField(max_length=20)  # mirrors the current version's trigger
    owner_module = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    current_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Small engine state (round-robin positions), changed under a row lock.
    state = models.JSONField(default=dict, blank=True)
    template = models.CharField(max_length=60, blank=True)  # imported from this template
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        indexes = [
            models.Index(
                fields=["object_api_name", "trigger_type"],
                condition=models.Q(enabled=True),
                name="workflow_enabled_trigger_idx",
            )
        ]

    def __str__(self) -> str:
        return self.key


class WorkflowVersion(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    trigger = models.JSONField()
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class WorkflowRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        WAITING = "waiting", _("Waiting (delay step)")
        SUCCEEDED = "succeeded", _("Succeeded")
        SKIPPED = "skipped", _("Conditions not met")
        FAILED = "failed", _("Failed")

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="runs")
    object_api_name = models.CharField(max_length=60, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    # What occurrence of the trigger this is ("created", "date:2026-03-01", "cron:...",
    # "manual:<uuid>"): with the version and record it makes a run happen at most once.
    occurrence_key = models.CharField(max_length=200)
    trigger_type = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    event = models.JSONField(default=dict, blank=True)  # old/new values, origin, user
    depth = models.PositiveSmallIntegerField(default=1)
    next_step = models.PositiveSmallIntegerField(default=0)
    resume_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # A running run names its worker (host:pid:claim) and holds a lease renewed with each
    # step it commits; a queued one, the time by which a worker should have taken it. The
    # sweeper queues again runs whose lease ran out (see engine.runs_sweep). The database
    # default keeps inserts of code deployed before this column working.
    locked_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "object_api_name", "record_id", "occurrence_key"],
                name="workflow_run_once",
            )
        ]
        indexes = [
            models.Index(fields=["workflow", "-created"], name="workflow_run_recent_idx"),
            models.Index(
                fields=["resume_at"],
                condition=models.Q(status="waiting"),
                name="workflow_run_waiting_idx",
            ),
            # What the sweeper reads every minute: the few runs in flight among millions.
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status__in=["queued", "running"]),
                name="workflow_run_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.workflow_id} on {self.object_api_name} {self.record_id}"


class WorkflowRunStep(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        WAITING = "waiting", _("Waiting")
        SKIPPED = "skipped", _("Skipped")

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="steps")
    index = models.SmallIntegerField()  # -1: the condition check
    action = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index} {self.action} {self.status}"


class OutboxMessage(models.Model):
    """Every e-mail and SMS a workflow sends, written in the step's transaction and
    delivered after commit; what a hotel can show a guest it was sent."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    object_api_name = models.CharField(max_length=60, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)  # List-Unsubscribe, ...
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    provider = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"


class WorkflowThrottle(models.Model):
    """The tenant's token bucket for workflow runs (one row): shared by every worker
    process, so one hotel group's flood waits its turn instead of filling the workers."""

    tokens = models.FloatField()
    refilled_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.tokens:.1f} tokens"


class SavedListView(models.Model):
    """A named search of a list screen (its query string: search, filters, sort), kept
    per user and optionally shared with the team."""

    object_api_name = models.CharField(max_length=60)
    name = models.CharField(max_length=100)
    user_id = models.BigIntegerField()  # tenant staff user; no FK, as elsewhere in metadata
    shared = models.BooleanField(default=False)
    params = models.JSONField(default=dict, blank=True)  # {"q": "...", "nationality": "FR"}
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "object_api_name", "name"], name="saved_list_view_name_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_api_name}: {self.name}"
