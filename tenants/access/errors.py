from __future__ import annotations

from tenants.errors import ApplicationError, PermissionDenied


class AccessDenied(PermissionDenied):
    """Raised by the policy when a user (or API key) may not do something: 403,
    code ``permission_denied``, a message that says what was refused and why."""


class ConsentMissing(ApplicationError):
    status_code = 403
    default_code = "consent_missing"
