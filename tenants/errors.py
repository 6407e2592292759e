"""The one error family that domain code raises. The API and UI handlers turn these
(and Django's ValidationError) into clear messages with a stable code and the field they
concern. It lives in the lowest layer so that every layer can raise it."""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def as_errors(self) -> list[dict[str, str | None]]:
        return [{"field": self.field, "code": self.code, "message": self.message}]


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class PreconditionFailed(ApplicationError):
    """The client's precondition (If-Match) no longer holds: the record changed."""

    status_code = 412
    default_code = "version_mismatch"
