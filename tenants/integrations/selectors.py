"""Reads of integration settings."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.integrations.models import ApiKey


def api_keys_list() -> QuerySet[ApiKey]:
    """Every API key of the tenant with its user, newest first (secrets are not stored)."""
    return ApiKey.objects.select_related("user").order_by("-created")
