"""Optional TOTP two-factor sign-in (django-otp), required for members of roles with
``requires_two_factor``. A user with a confirmed device must enter a code after the
password before any page or API call is served (AccessMiddleware enforces it)."""

from __future__ import annotations

from base64 import b32encode

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.access import policy
from tenants.access.models import AuditEvent
from tenants.access.services import audit_log
from tenants.context import current_schema

DEVICE_NAME = "Authenticator app"


def two_factor_enabled(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user_has_device(user, confirmed=True)


def two_factor_pending(user) -> str | None:
    """What a signed-in but unverified user must do first: ``"verify"`` (has a device),
    ``"enrol"`` (a role requires it and there is no device) or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_verified():
        return None
    if two_factor_enabled(user):
        return "verify"
    if policy.requires_two_factor(user):
        return "enrol"
    return None


def device_secret_base32(device: TOTPDevice) -> str:
    """The key as people type it into an authenticator app."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


@transaction.atomic
def two_factor_enrol_start(*, user) -> TOTPDevice:
    """A new unconfirmed device (replacing an unfinished enrolment)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def two_factor_enrol_confirm(*, user, token: str) -> TOTPDevice:
    """Confirm the pending device with a code from the app; it replaces any older one."""
    device = (
        TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk")
    ).first()
    if device is None:
        raise ValidationError({"token": ["Start the enrolment first: there is no new device."]})
    if not device.verify_token((token or "").strip()):
        raise ValidationError({"token": ["The code is not right (or has expired). Try again."]})
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_log(
        action=AuditEvent.Action.TWO_FACTOR_ENROL,
        actor=user,
        object_api_name="user",
        record_id=str(user.pk),
        details={"device": device.persistent_id},
    )
    return device


@transaction.atomic
def two_factor_verify(*, user, token: str):
    """The confirmed device that accepts ``token`` (throttled by django-otp), or None."""
    token = (token or "").strip()
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if device.verify_token(token):
            return device
    return None


def _credentials(user) -> dict:
    # What django-axes counts failures against: the e-mail, as the sign-in form sends it.
    return {"username": user.email}


def two_factor_locked(*, request, user) -> bool:
    """Whether sign-in is locked for this user (and, with the default lockout
    parameters, this client) after too many failed passwords or codes."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, _credentials(user))


def two_factor_failure_record(*, request, user) -> bool:
    """Count a refused code as a failed sign-in (django-axes: same limit, same lockout
    as wrong passwords; the lockout itself is audited by ``login.on_user_locked_out``)
    and audit it: a wrong code after a right password means the password is known.
    Returns whether the account is now locked."""
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    audit_log(
        action=AuditEvent.Action.TWO_FACTOR_FAILURE,
        actor=user,
        object_api_name="user",
        record_id=str(user.pk),
        details={"username": user.email},
    )
    return bool(getattr(request, "axes_locked_out", False))


def sign_in_failures_clear(*, request, user) -> None:
    """Forget the failed attempts once the whole sign-in succeeded. Not done on the
    password alone for users with a device (``AXES_RESET_ON_SUCCESS`` is off): whoever
    knows the password could otherwise sign in again before each lockout and guess
    codes without end."""
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    if hasattr(handler, "reset_user_attempts"):
        handler.reset_user_attempts(request, _credentials(user))


def on_user_logged_in(sender, request=None, user=None, **kwargs) -> None:
    """A password sign-in is the whole sign-in for users without a device; for the
    others the code still has to come (``sign_in_failures_clear`` runs after it)."""

    if request is None or user is None:
        return
    if current_schema() == "public":
        # No two-factor devices there (django-otp's tables are tenant tables).
        sign_in_failures_clear(request=request, user=user)
        return
    if not two_factor_enabled(user):
        sign_in_failures_clear(request=request, user=user)


@transaction.atomic
def two_factor_remove(*, user, actor=None) -> int:
    """Remove the user's devices (the user themself, or an administrator)."""
    if actor is not None and actor.pk != user.pk and not policy.is_tenant_admin(actor):
        policy.object_require(actor, "role", "edit")
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    if removed:
        audit_log(
            action=AuditEvent.Action.TWO_FACTOR_REMOVE,
            actor=actor or user,
            object_api_name="user",
            record_id=str(user.pk),
            details={"user": user.email},
        )
    return removed
