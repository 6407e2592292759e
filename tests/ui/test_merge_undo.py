"""Undoing a merge from the guest profile and the duplicate review (administrators)."""

from __future__ import annotations

import pytest

from crm.models import Guest, MergeLog
from crm.services.dedupe import guest_merge
from crm.services.guests import guest_create
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _merged():
    kept = guest_create(given_name="Ana", surname="Lima", emails=["ana@example.com"], actor=SYSTEM)
    gone = guest_create(
        given_name="Anna", surname="Lima", emails=["anna@example.com"], actor=SYSTEM
    )
    log = guest_merge(survivor=kept, duplicate=gone, actor=SYSTEM)
    return kept, gone.pk, MergeLog.objects.get(pk=log.pk)


def test_an_admin_undoes_a_merge_from_the_profile(make_user, alpha):
    kept, gone_id, log = _merged()
    client = client_for(make_user("tenant_admin"), alpha)

    profile = client.get(f"/guests/{kept.pk}/").content.decode()
    assert "Merged into this profile" in profile and "Anna Lima, merged" in profile
    assert f'action="/guests/merges/{log.pk}/undo/"' in profile
    undone = client.post(f"/guests/merges/{log.pk}/undo/", {"next": f"/guests/{kept.pk}/"})

    assert undone.status_code == 302 and undone["Location"] == f"/guests/{gone_id}/"
    assert Guest.objects.get(pk=gone_id).given_name == "Anna"
    log.refresh_from_db()
    assert log.undone_at is not None
    again = client.post(f"/guests/merges/{log.pk}/undo/", follow=True).content.decode()
    assert "This merge was already undone." in again


def test_the_duplicate_review_lists_recent_merges_with_undo(make_user, alpha):
    _kept, gone_id, log = _merged()
    client = client_for(make_user("tenant_admin"), alpha)

    page = client.get("/guests/duplicates/").content.decode()

    assert f'id="merge-{log.pk}"' in page and "Anna Lima" in page
    client.post(f"/guests/merges/{log.pk}/undo/")
    assert Guest.objects.filter(pk=gone_id).exists()
    assert f'id="merge-{log.pk}"' not in client.get("/guests/duplicates/").content.decode()


def test_only_administrators_undo_merges(make_user, alpha):
    kept, gone_id, log = _merged()
    manager = client_for(make_user("general_manager"), alpha)

    assert "Undo merge" not in manager.get(f"/guests/{kept.pk}/").content.decode()
    refused = manager.post(f"/guests/merges/{log.pk}/undo/")

    assert refused.status_code == 403
    assert not Guest.objects.filter(pk=gone_id).exists()
    assert (
        client_for(make_user("tenant_admin"), alpha).post("/guests/merges/999999/undo/").status_code
        == 404
    )
