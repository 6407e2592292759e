"""Requests that answered 500: a NUL in a search, unknown workflows, record types and
fields in the settings, and broken or hostile upload files. Each is now a page that
says what is wrong (400) or that there is no such thing (404)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from crm.models import Guest
from metadata.models import SavedListView
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.crm.services.uploads import BAD_FILES

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "The search cannot contain NUL characters."


@pytest.mark.parametrize(
    "url", ["/guests/?q=%00", "/guests/?q=Li%00ma", "/reservations/?q=%00", "/companies/?q=%00"]
)
def test_a_nul_in_the_search_is_a_form_error(tenant_a, url):
    response = tenant_client(tenant_a).get(url)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


def test_a_search_with_a_nul_cannot_be_saved_as_a_view(tenant_a):
    response = tenant_client(tenant_a).post("/guests/?q=%00", {"name": "Broken"})
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()
    with tenant_context(tenant_a):
        assert not SavedListView.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/settings/workflows/999999/edit/",
        "/settings/workflows/999999/",
        "/settings/objects/nope/fields/",
        "/settings/objects/nope/fields/new/",
        "/settings/objects/nope/fields/points/",
        "/settings/objects/guest/fields/nope/",
        "/settings/objects/guest/fields/nope/type/",
    ],
)
def test_unknown_settings_pages_are_404(tenant_a, url):
    response = tenant_client(tenant_a).get(url)
    assert response.status_code == 404


def test_non_administrators_are_refused_before_anything_is_looked_up(make_user, alpha):
    desk = client_for(make_user("front_office"), alpha)
    assert desk.get("/settings/objects/nope/fields/").status_code == 403
    assert desk.get("/settings/workflows/999999/edit/").status_code == 403


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_the_import_wizard_names_the_file_and_the_problem(make_user, alpha, case):
    file_name, content, problem = BAD_FILES[case]
    client = client_for(make_user("general_manager"), alpha)
    response = client.post(
        "/imports/", {"object": "guest", "file": SimpleUploadedFile(file_name, content)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"{file_name}: " in page and problem in page
    assert not Guest.objects.exists()
    assert "import_wizard" not in client.session  # nothing is waiting to be imported
