"""Reads of staff accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def users_list() -> QuerySet:
    """Staff accounts with their role assignments loaded, by e-mail."""
    return get_user_model().objects.order_by("email").prefetch_related("access_roles")
