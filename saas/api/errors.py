"""One DRF exception handler: every error leaves as
``{"errors": [{"field": ..., "code": ..., "message": ...}]}`` with a fitting status."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.errors import ApplicationError


def _flatten(detail, field=None) -> list[dict]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            out.extend(_flatten(value, None if key == "non_field_errors" else name))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, dict):
                out.extend(_flatten(item, f"{field}[{index}]" if field else f"[{index}]"))
            else:
                out.extend(_flatten(item, field))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": field, "code": code, "message": str(detail)}]


def django_validation_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {
                "field": None if field == "__all__" else field,
                "code": err.code or "invalid",
                "message": message,
            }
            for field, errors in exc.error_dict.items()
            for err in errors
            for message in err.messages
        ]
    return [
        {"field": None, "code": err.code or "invalid", "message": message}
        for err in exc.error_list
        for message in err.messages
    ]


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"errors": exc.as_errors()}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"errors": django_validation_errors(exc)}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": _flatten(exc.detail)}
    else:
        response.data = {
            "errors": [
                {
                    "field": None,
                    "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
                    "message": str(exc.detail),
                }
            ]
        }
    return response


# Deeper than this, a body is not a record an integrator means to send.
MAX_JSON_DEPTH = 32
# JSON numbers past a signed 64-bit integer fit no column, no JSON reader of the
# integrator's own (orjson, JavaScript's BigInt aside) and no answer echoing them back.
INT_LIMIT = 2**63


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Text cannot contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text cannot contain lone surrogates (invalid Unicode)."
    return None


def _body_problem(data) -> tuple[str, str] | None:
    """The path and problem of the first value that cannot be stored: text PostgreSQL
    refuses (NUL, lone surrogates), whole numbers past 64 bits, or nesting past
    MAX_JSON_DEPTH. Iterative, so a deep
    body cannot exhaust the stack here either."""
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return path or "body", f"The body is nested deeper than {MAX_JSON_DEPTH} levels."
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return path or "body", problem
        elif isinstance(value, int) and not -INT_LIMIT <= value < INT_LIMIT:
            return path or "body", "Whole numbers must lie between -2^63 and 2^63 - 1."
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                problem = _text_problem(str(key))
                if problem:
                    return name, problem
                stack.append((item, name, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}[{index}]" if path else f"[{index}]", depth + 1))
    return None


class JSONParser(parsers.JSONParser):
    """JSON bodies whose texts cannot be stored (PostgreSQL text refuses NUL characters
    and lone surrogates) or that nest absurdly deep are a 400 naming the place here,
    rather than a database error or a blown stack later."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - the body is nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        found = _body_problem(data)
        if found:
            raise exceptions.ValidationError({found[0]: found[1]})
        return data


def not_found(request, exception=None):
    """Django's 404 handler: paths under /api/ answer in the API's error format (an
    unknown path, or an id the route's converter refuses), screens with the page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        error = {"field": None, "code": "not_found", "message": "There is no such API path."}
        return JsonResponse({"errors": [error]}, status=404)
    return page_not_found(request, exception)
