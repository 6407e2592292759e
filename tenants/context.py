"""Typed access to what django-tenants adds to the database connection at run time."""

from __future__ import annotations

from django.db import connection


def current_schema() -> str:
    """The schema the default connection currently works in (``public`` outside a tenant)."""
    return connection.schema_name  # type: ignore[attr-defined]
