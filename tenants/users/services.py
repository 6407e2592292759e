from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from tenants.access.principal import Principal


@transaction.atomic
def user_password_changed(*, user) -> None:
    """A chosen password replaces the one-time password given at provisioning."""
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])


@transaction.atomic
def user_password_set(*, email: str, password: str):
    """Set a user's password (used for the local demo account)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email__iexact=email)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    return user


@transaction.atomic
def user_create(
    *,
    actor: Principal,
    email: str,
    full_name: str = "",
    roles: Iterable[str] = (),
    property_ids: Iterable[int] | None = None,
    is_admin: bool = False,
):
    """A staff account with a one-time password (returned, to hand over once), its
    roles (by key) and optionally a hotel scope. Administrators only; the plan's
    staff-user limit applies; audited through the role and scope services."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from tenants.access.models import AuditEvent, Role
    from tenants.access.services import audit_log, user_property_scope_set, user_roles_set
    from tenants.context import current_tenant
    from tenants.entitlements import tenant_limit_check

    actor.require_admin("create staff accounts")
    User = get_user_model()
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"{email!r} is not a valid e-mail address."}) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account."})
    if len(full_name or "") > 200:
        raise ValidationError({"full_name": "A name has at most 200 characters."})
    keys = sorted(
        {*(k.strip() for k in roles if k and k.strip()), *(["tenant_admin"] if is_admin else [])}
    )
    found = list(Role.objects.filter(key__in=keys))
    unknown = sorted(set(keys) - {r.key for r in found})
    if unknown:
        raise ValidationError({"roles": f"Unknown roles: {', '.join(unknown)}."})
    tenant_limit_check(
        tenant=current_tenant(),
        key="staff_users",
        count=User.objects.filter(is_active=True).count(),
        label="staff users",
    )
    from django.contrib.auth.hashers import make_password

    from tenants.users.hashers import ALGORITHM

    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(
        email=email, password=None, full_name=full_name or "", must_change_password=True
    )
    user.password = make_password(password, hasher=ALGORITHM)  # drawn here: 96 random bits
    user.save(update_fields=["password"])
    audit_log(
        action=AuditEvent.Action.USER_CREATE,
        actor=actor,
        object_api_name="user",
        record_id=str(user.pk),
        details={"user": user.email, "roles": keys},
    )
    user_roles_set(user=user, roles=found, actor=actor)
    if property_ids is not None:
        user_property_scope_set(user=user, property_ids=property_ids, actor=actor)
    return user, password


@transaction.atomic
def user_deactivate(*, actor: Principal, user):
    """Switch an account off (kept for the audit trail; its sessions and API keys stop
    working). Administrators only; never oneself, never the last administrator."""
    from tenants.access.models import AuditEvent
    from tenants.access.selectors import administrators
    from tenants.access.services import audit_log
    from tenants.errors import ApplicationError

    actor.require_admin("deactivate staff accounts")
    if user.pk == actor.user_id:
        raise ApplicationError("You cannot deactivate yourself.", code="self", field="user")
    if administrators().filter(pk=user.pk).exists() and administrators().count() <= 1:
        raise ApplicationError(
            "This is the last administrator; make someone else one first.",
            code="last_admin",
            field="user",
        )
    if user.is_active:
        from tenants.access.versioning import access_version_bump

        user.is_active = False
        user.save(update_fields=["is_active"])
        access_version_bump()  # the account's cached rules and API keys stop at once
        audit_log(
            action=AuditEvent.Action.USER_DEACTIVATE,
            actor=actor,
            object_api_name="user",
            record_id=str(user.pk),
            details={"user": user.email},
        )
    return user
