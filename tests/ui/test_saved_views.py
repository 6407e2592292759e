"""Saved list views on the guest list: save the current search under a name, open it
from the menu, share it with the team, delete it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from crm.services.guests import guest_create
from metadata.models import SavedListView
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_a_search_is_saved_opened_and_deleted(make_user, alpha):
    guest_create(given_name="Ana", surname="Lima", nationality="PT", actor=SYSTEM)
    guest_create(given_name="Bo", surname="Chen", nationality="CN", actor=SYSTEM)
    clerk = make_user("front_office")
    client = client_for(clerk, alpha)

    saved = client.post("/guests/?nationality=PT&sort=-stays&page=2", {"name": " Portuguese "})

    view = SavedListView.objects.get(user_id=clerk.pk)
    assert view.name == "Portuguese" and view.params == {"nationality": "PT", "sort": "-stays"}
    assert saved.status_code == 302
    assert parse_qs(urlsplit(saved["Location"]).query) == {
        "nationality": ["PT"],
        "sort": ["-stays"],
    }
    opened = client.get(f"/guests/?view={view.pk}")
    assert opened.status_code == 302 and "nationality=PT" in opened["Location"]
    page = client.get(opened["Location"]).content.decode()
    assert "Lima, Ana" in page and "Chen, Bo" not in page
    assert f'<option value="{view.pk}">Portuguese</option>' in page

    client.post("/guests/", {"action": "delete", "view": view.pk})
    assert not SavedListView.objects.filter(pk=view.pk).exists()


def test_a_view_needs_a_name_and_says_so_next_to_the_input(make_user, alpha):
    client = client_for(make_user("front_office"), alpha)

    response = client.post("/guests/?q=lima", {"name": "   "})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="saved-view-name-error"' in page
    assert "Give the view a name of 1-100 characters." in page
    assert SavedListView.objects.count() == 0


def test_shared_views_reach_the_team_but_only_the_owner_deletes_them(make_user, alpha):
    owner, colleague = make_user("front_office"), make_user("front_office")
    owner_client, colleague_client = client_for(owner, alpha), client_for(colleague, alpha)
    owner_client.post("/guests/?customer_type=corporate", {"name": "Corporate", "shared": "1"})
    owner_client.post("/guests/?customer_type=group", {"name": "Groups"})
    shared = SavedListView.objects.get(name="Corporate")

    page = colleague_client.get("/guests/").content.decode()
    assert "Corporate (shared by the team)" in page and "Groups" not in page
    assert colleague_client.get(f"/guests/?view={shared.pk}").status_code == 302
    private = SavedListView.objects.get(name="Groups")
    assert colleague_client.get(f"/guests/?view={private.pk}").status_code == 404

    refused = colleague_client.post(
        "/guests/", {"action": "delete", "view": shared.pk}, follow=True
    )
    assert "There is no saved view of yours with this id." in refused.content.decode()
    assert SavedListView.objects.filter(pk=shared.pk).exists()
