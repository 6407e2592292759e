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


class ScreenErrorMiddleware:
    """The screens' one handler for a domain error that escapes a view: a NotFound is
    the 404 page, any other ApplicationError or ValidationError a page with its message
    and status (400, 409...) -- never a server error. Refusals (403) are the access
    middleware's page; the API has its own handler."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        from tenants.errors import NotFound, PermissionDenied

        if request.path_info.startswith("/api/"):
            return None
        if isinstance(exception, PermissionDenied):
            return None
        if isinstance(exception, NotFound):
            status, title = 404, _("Not found")
        elif isinstance(exception, ApplicationError):
            status, title = exception.status_code, _("This cannot be done")
        elif isinstance(exception, ValidationError):
            status, title = 400, _("This cannot be done")
        else:
            return None
        messages = [m for texts in errors_by_field(exception).values() for m in texts]
        return render(
            request,
            "errors/problem.html",
            {"title": title, "message": " ".join(messages)},
            status=status,
        )
