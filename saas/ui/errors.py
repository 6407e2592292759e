"""Turn the domain's errors into messages next to the form inputs they concern.

Services raise Django's ValidationError (keyed by field) or an ApplicationError (with
``field``); the API shows the very same messages as ``{"errors": [...]}``."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from tenants.errors import ApplicationError


def errors_by_field(exc: ValidationError | ApplicationError) -> dict[str, list[str]]:
    """``{field or "__all__": [message, ...]}``."""
    # Imported here: saas.api pulls in DRF, whose settings import saas.api itself, so
    # loading it while the URL conf is first imported (as a worker does) would be circular.
    from saas.api.errors import django_validation_errors

    items = exc.as_errors() if isinstance(exc, ApplicationError) else django_validation_errors(exc)
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(item["field"] or "__all__", []).append(str(item["message"]))
    return out


def unplaced(errors: dict[str, list[str]], placed: set[str]) -> list[str]:
    """Messages of fields the form has no input for, prefixed with the field's name so
    the reader still knows what they concern."""
    out = []
    for field, messages in errors.items():
        if field in placed:
            continue
        for message in messages:
            out.append(message if field == "__all__" else f"{field}: {message}")
    return out
