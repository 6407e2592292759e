from __future__ import annotations

from django.db import transaction


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
def user_create(*, email: str, full_name: str = "", is_admin: bool = False, created_by=None):
    """A staff account with a one-time password (returned, to hand over once). The
    plan's staff-user limit applies."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from tenants.context import current_tenant
    from tenants.entitlements import tenant_limit_check

    User = get_user_model()
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"{email!r} is not a valid e-mail address."}) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account."})
    tenant_limit_check(
        tenant=current_tenant(),
        key="staff_users",
        count=User.objects.filter(is_active=True).count(),
        label="staff users",
    )
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name, must_change_password=True
    )
    if is_admin:
        from tenants.access.models import Role
        from tenants.access.services import user_roles_set

        user_roles_set(user=user, roles=Role.objects.filter(key="tenant_admin"))
    return user, password
