"""Structured logs: every record carries the request id (or the Celery task id) and the
tenant it was written for; ``LOG_FORMAT=json`` writes one JSON object per line.

The request id comes from a sane ``X-Request-ID`` header (a proxy or the caller chose it,
so one id follows the request through every hop) or is drawn here; the response echoes
it. The tenant is read from the database connection when the record is written, so the
same filter serves requests, Celery tasks (tenant-schemas-celery sets the connection's
tenant) and management commands.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
task_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

# Letters, digits and a few separators, at most 128 characters: anything else (spaces,
# control characters that could forge log lines, a megabyte of header) is replaced.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


def request_id_from(header: str | None) -> str:
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def _tenant() -> tuple[str, str]:
    try:
        from django.db import connection

        tenant = getattr(connection, "tenant", None)
        schema = getattr(connection, "schema_name", "") or ""
    except Exception:  # before Django is set up, or no database configured
        return "", ""
    slug = getattr(tenant, "slug", "") if tenant is not None else ""
    return schema, slug or ""


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``task_id``, ``tenant_schema`` and ``tenant`` (the slug) to
    every record that passes, so both formats can print them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        schema, slug = _tenant()
        record.tenant_schema = schema
        record.tenant = slug
        return True


# LogRecord's own attributes: everything else on a record came from ``extra=``.
_RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "request_id", "task_id", "tenant_schema", "tenant"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request
    and tenant context, the exception's traceback, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id", "tenant_schema", "tenant"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(tenant)s %(request_id)s%(task_id)s] %(message)s"
)


def logging_config(*, log_format: str, level: str) -> dict:
    """Django's LOGGING for ``LOG_FORMAT`` (``text`` or ``json``)."""
    if log_format not in ("text", "json"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {log_format!r}")
    formatter = (
        {"()": "saas.observability.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "saas.observability.logs.ContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "pgserver": {"level": "WARNING"},
            # Every sign-in would be logged at INFO; failures and lockouts are WARNING.
            "axes": {"level": "WARNING"},
        },
    }
