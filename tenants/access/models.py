"""Roles, their permissions, property scopes, temporary grants and the audit log.
All of it lives in each hotel group's schema. Objects and fields are named by their
api_name strings (see registry.py), never by foreign key to an upper layer's table."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACTIONS = ("view", "create", "edit", "delete", "export")


class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", _("Hidden")
    READ = "read", _("Read")
    EDIT = "edit", _("Read and edit")


FIELD_ACCESS_RANK = {FieldAccess.HIDDEN: 0, FieldAccess.READ: 1, FieldAccess.EDIT: 2}


class Role(models.Model):
    """A named bundle of permissions. Seeded roles (``is_system``) can be edited but not
    deleted; tenants add their own. ``grants_everything`` is the tenant administrator:
    every object, action and field, sensitive ones included."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_system = models.BooleanField(default=False)
    grants_everything = models.BooleanField(default=False)
    requires_two_factor = models.BooleanField(
        default=False, help_text=_("Members must sign in with a one-time code.")
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="RoleAssignment",
        through_fields=("role", "user"),
        related_name="access_roles",
        blank=True,
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class RoleAssignment(models.Model):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["role", "user"], name="access_role_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.role_id}"


class ObjectPermission(models.Model):
    """What a role may do with an object. ``target`` is an object api_name (``guest``),
    ``module:<key>`` (every object of that module) or ``*`` (every object); the most
    specific row of a role wins. ``field_default`` is the shorthand for "every
    non-sensitive field of the object at this level"; FieldPermission rows override it
    field by field and are the only way to open a sensitive field."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="object_permissions")
    target = models.CharField(max_length=150)
    can_view = models.BooleanField(default=False)
    can_create = models.BooleanField(default=False)
    can_edit = models.BooleanField(default=False)
    can_delete = models.BooleanField(default=False)
    can_export = models.BooleanField(default=False)
    field_default = models.CharField(
        max_length=10, choices=FieldAccess.choices, default=FieldAccess.HIDDEN
    )

    class Meta:
        ordering = ["role", "target"]
        constraints = [
            models.UniqueConstraint(fields=["role", "target"], name="access_object_perm_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role_id}:{self.target} {sorted(self.actions())}"

    def actions(self) -> frozenset[str]:
        return frozenset(a for a in ACTIONS if getattr(self, f"can_{a}"))


class FieldPermission(models.Model):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="field_permissions")
    object_api_name = models.CharField(max_length=150)
    field_api_name = models.CharField(max_length=150)
    access = models.CharField(max_length=10, choices=FieldAccess.choices)

    class Meta:
        ordering = ["role", "object_api_name", "field_api_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "object_api_name", "field_api_name"],
                name="access_field_perm_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role_id}:{self.object_api_name}.{self.field_api_name}={self.access}"


class PropertyScope(models.Model):
    """Limits a user to some properties (hotels). No row: every property."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="property_scope"
    )
    property_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.property_ids}"


class TemporaryGrant(models.Model):
    """One permission for one user until ``expires_at``: either an object action
    (``action`` set) or a field level (``field_api_name`` + ``field_access``). It stops
    counting at ``expires_at`` by itself (checked against the clock on every decision);
    the beat task only records the expiry in the audit log."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="temporary_grants"
    )
    object_api_name = models.CharField(max_length=150)
    action = models.CharField(max_length=10, blank=True)
    field_api_name = models.CharField(max_length=150, blank=True)
    field_access = models.CharField(max_length=10, choices=FieldAccess.choices, blank=True)
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expiry_logged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (~models.Q(action="") & models.Q(field_api_name="", field_access=""))
                    | (
                        models.Q(action="")
                        & ~models.Q(field_api_name="")
                        & models.Q(field_access__in=["read", "edit"])
                    )
                ),
                name="access_grant_action_xor_field",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="access_grant_expires_after_start",
            ),
        ]

    def __str__(self) -> str:
        what = self.action or f"{self.field_api_name}={self.field_access}"
        return f"{self.user_id} {self.object_api_name} {what} until {self.expires_at}"

    def is_active(self, now) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.expires_at


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        SENSITIVE_READ = "sensitive_read", _("Sensitive fields read")
        EXPORT = "export", _("Export")
        ROLE_CREATE = "role_create", _("Role created")
        ROLE_UPDATE = "role_update", _("Role changed")
        ROLE_DELETE = "role_delete", _("Role deleted")
        ROLE_ASSIGN = "role_assign", _("Roles of a user changed")
        PERMISSION_CHANGE = "permission_change", _("Permissions changed")
        PROPERTY_SCOPE_CHANGE = "property_scope_change", _("Property scope changed")
        GRANT_CREATE = "grant_create", _("Temporary grant given")
        GRANT_REVOKE = "grant_revoke", _("Temporary grant revoked")
        GRANT_EXPIRE = "grant_expire", _("Temporary grant expired")
        TWO_FACTOR_ENROL = "two_factor_enrol", _("Two-factor device enrolled")
        TWO_FACTOR_REMOVE = "two_factor_remove", _("Two-factor device removed")
        TWO_FACTOR_FAILURE = "two_factor_failure", _("Two-factor code refused")
        LOGIN_LOCKOUT = "login_lockout", _("Sign-in locked after failed attempts")
        LOCKOUT_RESET = "lockout_reset", _("Sign-in lockout lifted")
        USER_CREATE = "user_create", _("Staff account created")
        USER_DEACTIVATE = "user_deactivate", _("Staff account deactivated")
        PRIVACY_EXPORT = "privacy_export", _("Guest's personal data exported")
        PRIVACY_ERASE = "privacy_erase", _("Guest's personal data erased")

    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the trail survives the account's deletion.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    object_api_name = models.CharField(max_length=150, blank=True)
    record_id = models.CharField(max_length=100, blank=True)
    record_count = models.PositiveIntegerField(null=True, blank=True)
    fields = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["action", "occurred_at"]),
            models.Index(fields=["object_api_name", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"


class AccessState(models.Model):
    """One row: the version of this tenant's rights (roles, permissions, assignments,
    hotel scopes, grants, API keys, active accounts). Every change draws a new number in
    its transaction, so each process can cache rules and keys and check, with one
    indexed read per request, that its copy is current."""

    # No Positive* field: its unnamed CHECK constraint is refused on a Citus cluster.
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"access v{self.version}"
