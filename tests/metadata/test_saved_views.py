"""Saved list views: names per user, the search kept without its page, replaced when saved
again under the same name, deleted only by their owner."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from metadata.selectors.saved_views import saved_views_for
from metadata.services.saved_views import saved_view_create, saved_view_delete
from tenants.errors import NotFound
from tests.access.conftest import alpha, make_user  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_saving_again_under_a_name_replaces_the_search(make_user, alpha):  # noqa: F811 - the fixtures imported above
    user = make_user("front_office")
    saved_view_create(
        user=user, object_api_name="guest", name="VIP", params={"q": "a", "page": "3"}
    )

    view = saved_view_create(user=user, object_api_name="guest", name="VIP", params={"q": "b"})

    assert list(saved_views_for(user=user, object_api_name="guest")) == [view]
    assert view.params == {"q": "b"}


def test_bad_input_names_the_setting(make_user, alpha):  # noqa: F811 - the fixtures imported above
    user = make_user("front_office")
    with pytest.raises(ValidationError) as name_error:
        saved_view_create(user=user, object_api_name="guest", name="x" * 101, params={})
    assert "name" in name_error.value.message_dict
    with pytest.raises(ValidationError) as params_error:
        saved_view_create(user=user, object_api_name="guest", name="A", params={"q": ["list"]})
    assert params_error.value.message_dict["params"] == [
        "The value of q is text of at most 500 characters."
    ]
    with pytest.raises(ValidationError) as object_error:
        saved_view_create(user=user, object_api_name="nope", name="A", params={})
    assert "object" in object_error.value.message_dict


def test_only_the_owner_deletes(make_user, alpha):  # noqa: F811 - the fixtures imported above
    owner, other = make_user("front_office"), make_user("front_office")
    view = saved_view_create(user=owner, object_api_name="guest", name="A", params={}, shared=True)

    with pytest.raises(NotFound):
        saved_view_delete(user=other, view_id=view.pk)
    assert list(saved_views_for(user=other, object_api_name="guest")) == [view]
    saved_view_delete(user=owner, view_id=view.pk)
    assert not saved_views_for(user=owner, object_api_name="guest").exists()
