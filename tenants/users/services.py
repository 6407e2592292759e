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
