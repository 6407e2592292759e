"""Typed access to what django-tenants adds to the database connection at run time."""

from __future__ import annotations

from django.db import connection


def current_schema() -> str:
    """The schema the default connection currently works in (``public`` outside a tenant)."""
    return connection.schema_name  # type: ignore[attr-defined]


def current_tenant():
    """The Tenant row the connection is set to (django-tenants sets it per request/task)."""
    return getattr(connection, "tenant", None)  # noqa: B009 - added at run time


def schema_public_set() -> None:
    """Point the default connection at the shared (public) schema."""
    connection.set_schema_to_public()  # type: ignore[attr-defined]


def current_zone():
    """The time zone of the current tenant (UTC outside a tenant or for a bad name):
    times staff type and read, such as a task's due time, are in it."""
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(getattr(current_tenant(), "timezone", "") or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
