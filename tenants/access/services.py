"""Every write of the access app. Each change of rights leaves an AuditEvent.

``actor`` is the Principal making the change: they must hold the right to make it (and
may only hand out temporary grants within their own rights). ``Principal.system(...)`` is
the platform (migrations, management commands, beat tasks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from tenants.access import policy, scoping
from tenants.access.audit import audit_log
from tenants.access.models import (
    ACTIONS,
    AuditEvent,
    FieldAccess,
    FieldPermission,
    ObjectPermission,
    PropertyScope,
    Role,
    RoleAssignment,
    TemporaryGrant,
)
from tenants.access.principal import Principal
from tenants.access.versioning import access_version_bump

# --- Audit ----------------------------------------------------------------------------


@transaction.atomic
def audit_export_log(
    *,
    actor: Principal,
    object_api_name: str,
    record_count: int,
    fields: Iterable[str],
    export_format: str = "",
    filters: dict[str, Any] | None = None,
) -> AuditEvent:
    """Check that the principal may export ``object_api_name`` and record the export.
    Call it in the same transaction as (or just before) producing the file; it raises
    AccessDenied when export is not allowed, so no unaudited export can happen."""
    actor.require(object_api_name, "export")
    return audit_log(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        object_api_name=object_api_name,
        record_count=record_count,
        fields=sorted(fields),
        details={"format": export_format, "filters": filters or {}},
    )


# --- Roles and permissions ------------------------------------------------------------


def _require_admin_right(actor: Principal, object_api_name: str, action: str) -> None:
    actor.require(object_api_name, action)


def _readable_in_every_language(role: Role) -> None:
    """A name given in the reader's language is stored in that language's column; the
    default language's column is its fallback in every other language, so a role named
    in Chinese would have no name in English unless that column is filled too."""
    from modeltranslation.utils import build_localized_fieldname

    for attr in ("name", "description"):
        value = getattr(role, attr)
        default = build_localized_fieldname(attr, settings.MODELTRANSLATION_DEFAULT_LANGUAGE)
        if value and not getattr(role, default, ""):
            setattr(role, default, value)


@transaction.atomic
def role_create(
    *,
    key: str,
    name: str,
    description: str = "",
    requires_two_factor: bool = False,
    objects: Mapping[str, tuple[Iterable[str], str]] | None = None,
    fields: Mapping[tuple[str, str], str | None] | None = None,
    actor: Principal,
) -> Role:
    """A role of the tenant's own, with its first rights (``objects`` and ``fields`` as
    ``role_rights_set`` takes them) in the same transaction."""
    _require_admin_right(actor, "role", "create")
    access_version_bump()  # cached rules and keys of this tenant go stale
    role = Role(
        key=key,
        name=name,
        description=description,
        requires_two_factor=requires_two_factor,
    )
    _readable_in_every_language(role)
    role.full_clean()
    role.save()
    audit_log(
        action=AuditEvent.Action.ROLE_CREATE,
        actor=actor,
        object_api_name="role",
        record_id=str(role.pk),
        details={"key": key},
    )
    if objects or fields:
        role_rights_set(role=role, actor=actor, objects=objects, fields=fields)
    return role


@transaction.atomic
def role_update(
    *,
    role: Role,
    actor: Principal,
    name: str | None = None,
    description: str | None = None,
    requires_two_factor: bool | None = None,
) -> Role:
    _require_admin_right(actor, "role", "edit")
    access_version_bump()  # cached rules and keys of this tenant go stale
    changes = {}
    for attr, value in (
        ("name", name),
        ("description", description),
        ("requires_two_factor", requires_two_factor),
    ):
        if value is not None and getattr(role, attr) != value:
            changes[attr] = value
            setattr(role, attr, value)
    if changes:
        _readable_in_every_language(role)
        role.full_clean()
        role.save()
        audit_log(
            action=AuditEvent.Action.ROLE_UPDATE,
            actor=actor,
            object_api_name="role",
            record_id=str(role.pk),
            details={"key": role.key, "changes": changes},
        )
    return role


@transaction.atomic
def role_delete(*, role: Role, actor: Principal) -> None:
    _require_admin_right(actor, "role", "delete")
    access_version_bump()  # cached rules and keys of this tenant go stale
    if role.is_system:
        raise ValidationError({"role": [f"{role.key} is a built-in role and cannot be deleted."]})
    audit_log(
        action=AuditEvent.Action.ROLE_DELETE,
        actor=actor,
        object_api_name="role",
        record_id=str(role.pk),
        details={"key": role.key},
    )
    role.delete()


def _validate_target(target: str) -> None:
    if not target or len(target) > 150:
        raise ValidationError({"target": ["Name an object, module:<key> or *."]})


@transaction.atomic
def role_object_permission_set(
    *,
    role: Role,
    target: str,
    actions: Iterable[str],
    field_default: str = FieldAccess.HIDDEN,
    actor: Principal,
) -> ObjectPermission | None:
    """Set what ``role`` may do with ``target`` (object api_name, ``module:<key>`` or
    ``*``) and the default level of its non-sensitive fields. No actions and hidden
    fields removes the row."""
    _require_admin_right(actor, "role", "edit")
    access_version_bump()  # cached rules and keys of this tenant go stale
    _validate_target(target)
    actions = set(actions)
    unknown = actions - set(ACTIONS)
    if unknown:
        raise ValidationError(
            {"actions": [f"{', '.join(sorted(unknown))}: not an action ({', '.join(ACTIONS)})."]}
        )
    if field_default not in FieldAccess.values:
        raise ValidationError(
            {"field_default": [f"{field_default} is not one of {', '.join(FieldAccess.values)}."]}
        )
    if role.grants_everything:
        raise ValidationError({"role": [f"{role.key} already grants everything."]})
    if not actions and field_default == FieldAccess.HIDDEN:
        ObjectPermission.objects.filter(role=role, target=target).delete()
        permission = None
    else:
        permission, _ = ObjectPermission.objects.update_or_create(
            role=role,
            target=target,
            defaults={
                **{f"can_{a}": a in actions for a in ACTIONS},
                "field_default": field_default,
            },
        )
    audit_log(
        action=AuditEvent.Action.PERMISSION_CHANGE,
        actor=actor,
        object_api_name=target,
        details={
            "role": role.key,
            "actions": sorted(actions, key=ACTIONS.index),
            "field_default": str(field_default),
        },
    )
    return permission


@transaction.atomic
def role_field_permission_set(
    *,
    role: Role,
    object_api_name: str,
    field_api_name: str,
    access: str | None,
    actor: Principal,
) -> FieldPermission | None:
    """Set one field's level for ``role``; ``access=None`` removes the override (the
    object's ``field_default`` applies again, and a sensitive field is hidden)."""
    _require_admin_right(actor, "role", "edit")
    access_version_bump()  # cached rules and keys of this tenant go stale
    if access is not None and access not in FieldAccess.values:
        raise ValidationError(
            {"access": [f"{access} is not one of {', '.join(FieldAccess.values)} or None."]}
        )
    if not field_api_name:
        raise ValidationError({"field_api_name": ["Name the field."]})
    if access is None:
        FieldPermission.objects.filter(
            role=role, object_api_name=object_api_name, field_api_name=field_api_name
        ).delete()
        permission = None
    else:
        permission, _ = FieldPermission.objects.update_or_create(
            role=role,
            object_api_name=object_api_name,
            field_api_name=field_api_name,
            defaults={"access": access},
        )
    audit_log(
        action=AuditEvent.Action.PERMISSION_CHANGE,
        actor=actor,
        object_api_name=object_api_name,
        fields=[field_api_name],
        details={"role": role.key, "access": access},
    )
    return permission


@transaction.atomic
def user_roles_set(*, user, roles: Iterable[Role], actor: Principal) -> list[str]:
    """Replace the user's roles. Returns the role keys now held."""
    _require_admin_right(actor, "role", "edit")
    access_version_bump()  # cached rules and keys of this tenant go stale
    wanted = {role.pk: role for role in roles}
    current = set(RoleAssignment.objects.filter(user=user).values_list("role_id", flat=True))
    RoleAssignment.objects.filter(user=user).exclude(role_id__in=wanted).delete()
    for pk in set(wanted) - current:
        RoleAssignment.objects.create(user=user, role=wanted[pk], assigned_by=actor.user)
    keys = sorted(role.key for role in wanted.values())
    # ``is_staff`` mirrors the one administrator rule (a role granting everything) for
    # display; access decisions read the roles, never this flag.
    is_admin = any(role.grants_everything for role in wanted.values())
    if getattr(user, "is_staff", is_admin) != is_admin:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])
    before = sorted(Role.objects.filter(pk__in=current).values_list("key", flat=True))
    if before != keys:
        audit_log(
            action=AuditEvent.Action.ROLE_ASSIGN,
            actor=actor,
            object_api_name="user",
            record_id=str(user.pk),
            details={"user": user.email, "before": before, "after": keys},
        )
    policy.invalidate(user)
    return keys


@transaction.atomic
def user_property_scope_set(*, user, property_ids: Iterable[int] | None, actor: Principal) -> None:
    """Limit the user to these property ids; None lifts the limit (every property)."""
    _require_admin_right(actor, "role", "edit")
    access_version_bump()  # cached rules and keys of this tenant go stale
    if property_ids is None:
        PropertyScope.objects.filter(user=user).delete()
        ids = None
    else:
        ids = sorted({int(i) for i in property_ids})
        PropertyScope.objects.update_or_create(user=user, defaults={"property_ids": ids})
    audit_log(
        action=AuditEvent.Action.PROPERTY_SCOPE_CHANGE,
        actor=actor,
        object_api_name="user",
        record_id=str(user.pk),
        details={"user": user.email, "property_ids": ids},
    )
    scoping.invalidate(user)


# --- Temporary grants -----------------------------------------------------------------


@transaction.atomic
def temporary_grant_create(
    *,
    user,
    object_api_name: str,
    expires_at: datetime,
    action: str | None = None,
    field_api_name: str | None = None,
    field_access: str | None = None,
    starts_at: datetime | None = None,
    reason: str = "",
    actor: Principal,
) -> TemporaryGrant:
    """Give ``user`` one object action, or one field level (``read``/``edit``), on
    ``object_api_name`` until ``expires_at``. An actor may only hand out what they hold
    themselves."""
    now = timezone.now()
    starts_at = starts_at or now
    errors: dict[str, list[str]] = {}
    if not object_api_name:
        errors["object_api_name"] = ["Name the object."]
    if not getattr(user, "is_active", False):
        errors["user"] = ["Temporary grants are for active accounts."]
    if bool(action) == bool(field_api_name):
        errors["action"] = ["Give either an action or a field, not both and not neither."]
    if action and action not in ACTIONS:
        errors["action"] = [f"{action} is not an action ({', '.join(ACTIONS)})."]
    if field_api_name and field_access not in (FieldAccess.READ, FieldAccess.EDIT):
        errors["field_access"] = ["A field grant gives read or edit."]
    if expires_at <= now:
        errors["expires_at"] = ["The grant must end in the future."]
    elif expires_at <= starts_at:
        errors["expires_at"] = ["The grant must end after it starts."]
    if errors:
        raise ValidationError(errors)
    actor.require("temporary_grant", "create")
    if not actor.is_system:
        if action:
            actor.require(object_api_name, action)
        elif actor.field_level(object_api_name, field_api_name) not in (  # type: ignore[arg-type]
            field_access,
            FieldAccess.EDIT,
        ):
            raise ValidationError(
                {
                    "field_api_name": [
                        f"You cannot grant {field_access} on {field_api_name} "
                        "because you do not hold it yourself."
                    ]
                }
            )
    access_version_bump()  # cached rules and keys of this tenant go stale
    grant = TemporaryGrant.objects.create(
        user=user,
        object_api_name=object_api_name,
        action=action or "",
        field_api_name=field_api_name or "",
        field_access=field_access or "",
        starts_at=starts_at,
        expires_at=expires_at,
        reason=reason,
        granted_by=actor.user,
    )
    audit_log(
        action=AuditEvent.Action.GRANT_CREATE,
        actor=actor,
        object_api_name=object_api_name,
        record_id=str(grant.pk),
        fields=[field_api_name] if field_api_name else [],
        details=_grant_details(grant),
    )
    policy.invalidate(user)
    return grant


def _grant_details(grant: TemporaryGrant) -> dict[str, Any]:
    return {
        "user": grant.user.email,
        "action": grant.action or None,
        "field": grant.field_api_name or None,
        "access": grant.field_access or None,
        "starts_at": grant.starts_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
        "reason": grant.reason,
    }


@transaction.atomic
def temporary_grant_revoke(*, grant: TemporaryGrant, actor: Principal) -> TemporaryGrant:
    _require_admin_right(actor, "temporary_grant", "delete")
    access_version_bump()  # cached rules and keys of this tenant go stale
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.revoked_by = actor.user
        grant.save(update_fields=["revoked_at", "revoked_by"])
        audit_log(
            action=AuditEvent.Action.GRANT_REVOKE,
            actor=actor,
            object_api_name=grant.object_api_name,
            record_id=str(grant.pk),
            details=_grant_details(grant),
        )
    policy.invalidate(grant.user)
    return grant


@transaction.atomic
def temporary_grants_expire(*, now: datetime | None = None) -> int:
    """Record in the audit log every grant that has run out (once), and delete grants
    that ended longer ago than the retention. The grants stopped counting at their
    expiry already; this is book-keeping. Returns how many expiries were recorded."""
    now = now or timezone.now()
    expired = list(
        TemporaryGrant.objects.select_for_update(skip_locked=True)
        .select_related("user")
        .filter(expires_at__lte=now, expiry_logged=False, revoked_at__isnull=True)
    )
    for grant in expired:
        audit_log(
            action=AuditEvent.Action.GRANT_EXPIRE,
            actor=None,
            object_api_name=grant.object_api_name,
            record_id=str(grant.pk),
            details=_grant_details(grant),
        )
    TemporaryGrant.objects.filter(pk__in=[g.pk for g in expired]).update(expiry_logged=True)
    cutoff = now - timedelta(days=settings.ATRIUM_ACCESS_GRANT_RETENTION_DAYS)
    TemporaryGrant.objects.filter(expires_at__lt=cutoff).delete()
    return len(expired)


# --- Rights of a role, several at once (the roles editor, PATCH /api/v1/roles/{key}/) --


@transaction.atomic
def role_rights_set(
    *,
    role: Role,
    actor: Principal,
    objects: Mapping[str, tuple[Iterable[str], str]] | None = None,
    fields: Mapping[tuple[str, str], str | None] | None = None,
) -> int:
    """Set several rights of ``role`` in one transaction: ``objects`` maps a target
    (object api_name, ``module:<key>`` or ``*``) to ``(actions, field_default)``,
    ``fields`` maps ``(object, field)`` to a level or None (back to the object's
    default). Only what differs from the current rows is written (and audited), so an
    editor posting its whole form leaves one audit row per real change. Returns how
    many rights changed."""
    _require_admin_right(actor, "role", "edit")
    if role.grants_everything and (objects or fields):
        raise ValidationError(
            {"role": [gettext("%(role)s already grants everything.") % {"role": role.key}]}
        )
    current_objects = {p.target: p for p in ObjectPermission.objects.filter(role=role)}
    current_fields = {
        (p.object_api_name, p.field_api_name): p.access
        for p in FieldPermission.objects.filter(role=role)
    }
    changed = 0
    for target, (actions, field_default) in sorted((objects or {}).items()):
        wanted = set(actions)
        row = current_objects.get(target)
        have = (set(row.actions()), row.field_default) if row is not None else (set(), "hidden")
        if have == (wanted, field_default):
            continue
        role_object_permission_set(
            role=role, target=target, actions=wanted, field_default=field_default, actor=actor
        )
        changed += 1
    for (object_api_name, field_api_name), access in sorted(
        (fields or {}).items(), key=lambda item: item[0]
    ):
        if current_fields.get((object_api_name, field_api_name)) == access:
            continue
        role_field_permission_set(
            role=role,
            object_api_name=object_api_name,
            field_api_name=field_api_name,
            access=access,
            actor=actor,
        )
        changed += 1
    return changed
