"""Login protection glue for django-axes (which runs in the tenant's schema, so each
hotel group has its own failed-attempt records and lockouts)."""

from __future__ import annotations

from django.db import transaction

from tenants.context import current_schema
from tenants.ratelimit import Limit, limits_require


def axes_username(request, credentials: dict | None) -> str:
    """Count "Admin@x.test" and "admin@x.test" as one account, like the login does."""
    from django.conf import settings

    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field) or credentials.get("email")
    else:
        data = getattr(request, "data", None) or request.POST
        value = data.get(field)
    return (value or "").strip().lower()


def on_user_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:

    if current_schema() == "public":
        return
    from django.conf import settings
    from django.utils import timezone

    from tenants.access.models import AuditEvent
    from tenants.access.services import audit_log

    # Attempts during a lockout re-fire the signal; one audit row per lockout is enough.
    if AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN_LOCKOUT,
        details__username=username or "",
        details__ip_address=ip_address,
        occurred_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    ).exists():
        return
    audit_log(
        action="login_lockout",
        object_api_name="user",
        details={"username": username or "", "ip_address": ip_address},
        ip_address=ip_address,
    )


@transaction.atomic
def login_lockout_reset(*, email: str, actor=None) -> int:
    """Lift the lockout of an e-mail address (every address it was tried from)."""
    from axes.utils import reset

    from tenants.access import policy
    from tenants.access.services import audit_log

    if actor is not None:
        policy.object_require(actor, "role", "edit")
    email = email.strip().lower()
    count = reset(username=email)
    audit_log(
        action="lockout_reset",
        actor=actor,
        object_api_name="user",
        details={"username": email, "attempts_cleared": count},
    )
    return count


def password_reset_allow(*, email: str, client_ip: str) -> None:
    """Count a password reset request; ``RateLimited`` when the address asked for (with
    or without an account, so the answer tells nothing about accounts) or the client
    has asked too often within ``ATRIUM_PASSWORD_RESET_WINDOW_MINUTES``."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    window = settings.ATRIUM_PASSWORD_RESET_WINDOW_MINUTES * 60
    limits_require(
        [
            Limit(
                "password-reset-address",
                email.strip().lower(),
                settings.ATRIUM_PASSWORD_RESET_PER_ADDRESS,
                window,
            ),
            Limit("password-reset-ip", client_ip, settings.ATRIUM_PASSWORD_RESET_PER_IP, window),
        ],
        _("Too many password reset e-mails were asked for. Try again in %(minutes)s minutes."),
    )
