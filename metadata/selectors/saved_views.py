"""Reads of saved list views."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from metadata.models import SavedListView


def saved_views_for(*, user, object_api_name: str) -> QuerySet[SavedListView]:
    """The user's own views and those the team shares, by name."""
    return SavedListView.objects.filter(
        Q(user_id=user.pk) | Q(shared=True), object_api_name=object_api_name
    ).order_by("name", "pk")


def saved_view_get(*, user, object_api_name: str, view_id: int) -> SavedListView | None:
    return saved_views_for(user=user, object_api_name=object_api_name).filter(pk=view_id).first()
