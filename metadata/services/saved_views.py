"""Saved list views: a user's named search of a list screen, optionally shared with the
team. Only the owner deletes a view (a shared view is the owner's to withdraw)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.definitions import snapshot
from metadata.models import SavedListView
from tenants.errors import NotFound

MAX_PARAMS = 50
MAX_VALUE = 500


def _params_clean(params: Any) -> dict[str, str]:
    if not isinstance(params, dict):
        raise ValidationError({"params": "Give the search as an object of names and values."})
    clean: dict[str, str] = {}
    for key, value in params.items():
        if key == "page" or value in (None, ""):
            continue  # a page number is not part of a search
        if not isinstance(key, str) or not key or len(key) > 100:
            raise ValidationError({"params": f"{key!r} is not a search setting."})
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise ValidationError(
                {"params": f"The value of {key} is text of at most {MAX_VALUE} characters."}
            )
        if "\x00" in key or "\x00" in value:  # PostgreSQL's JSON refuses it
            raise ValidationError({"params": f"{key!r} contains a NUL character."})
        clean[key] = value
    if len(clean) > MAX_PARAMS:
        raise ValidationError({"params": f"At most {MAX_PARAMS} search settings."})
    return clean


@transaction.atomic
def saved_view_create(
    *, user, object_api_name: str, name: Any, params: Any, shared: bool = False
) -> SavedListView:
    """Save (or, under a name the user already used, replace) a view."""
    if object_api_name not in snapshot():
        raise ValidationError({"object": f"There is no object named {object_api_name!r}."})
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise ValidationError(
            {"name": ValidationError("Give the view a name of 1-100 characters.", code="required")}
        )
    if "\x00" in name:  # PostgreSQL refuses it in text
        raise ValidationError({"name": "The name contains a NUL character."})
    if not isinstance(shared, bool):
        raise ValidationError({"shared": "shared is true or false."})
    view, _created = SavedListView.objects.update_or_create(
        user_id=user.pk,
        object_api_name=object_api_name,
        name=name.strip(),
        defaults={"params": _params_clean(params), "shared": shared},
    )
    return view


@transaction.atomic
def saved_view_delete(*, user, view_id: int) -> None:
    deleted, _rows = SavedListView.objects.filter(pk=view_id, user_id=user.pk).delete()
    if not deleted:
        raise NotFound("There is no saved view of yours with this id.", field="view")
