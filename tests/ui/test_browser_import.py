"""In Chromium, as a hotel's administrator would: upload a guest list whose columns have
human names (one in Chinese, one the wizard cannot place), check the proposed mapping,
place the column it left out, read the dry run's report and import. Once in English
and once in Simplified Chinese. Screenshots go to test-artifacts/<test>/."""

from __future__ import annotations

import re

import pytest

from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _api, _words

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def jobs_inline():
    """The import job runs in the request that starts it (the server thread): no worker
    in this test, and the job's page shows the outcome at once."""
    from saas.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_maps_human_column_names_and_imports_a_guest_list(
    new_page, live_site, shots, language, jobs_inline
):
    from django.core.management import call_command

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = live_site
    tag = language.replace("-", "")
    csv = (
        "First Name,Family name,E-mail address,出生日期,Handynummer,Notes\n"
        f"Ana,Lima{tag},ana.{tag}@example.com,1990-04-01,+351912345678,likes the sea\n"
        f"Bo,Chen{tag},bo.{tag}@example.com,1985-12-24,+85221234567,\n"
    ).encode()
    words = _words(language, "Upload", "Check the file")

    page = _signed_in(new_page, site.admin_email)
    if language != "en":
        _switch_language(page, "简体中文")
    page.goto("/imports/")
    page.locator("#id_object").select_option("guest")
    page.locator("#id_file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_role("button", name=words["Upload"]).click()

    # The proposal, from the column names; the German one is left to the admin.
    expect(page.locator("#map-0")).to_have_value("given_name")
    expect(page.locator("#map-1")).to_have_value("surname")
    expect(page.locator("#map-2")).to_have_value("email")
    expect(page.locator("#map-3")).to_have_value("birth_date")
    expect(page.locator("#map-4")).to_have_value("")
    expect(page.locator("#map-5")).to_have_value("")
    shots(page, f"mapping-{language}")
    page.locator("#map-4").select_option("phone")
    page.get_by_role("button", name=words["Check the file"]).click()

    # The dry run: both rows valid, nothing written yet.
    expect(page.locator("form input[name=action][value=start] + button")).to_contain_text("2")
    shots(page, f"report-{language}")
    page.locator("form input[name=action][value=start] + button").click()
    expect(page).to_have_url(re.compile(r"/imports/jobs/[0-9a-f-]+/$"))
    from django.utils import translation

    from tenants.jobs.models import Job

    with translation.override(language):
        succeeded = str(Job.Status.SUCCEEDED.label)
    assert language == "en" or succeeded != "Succeeded"  # the status in the reader's words
    expect(page.locator("#job-status")).to_contain_text(succeeded)
    shots(page, f"imported-{language}")

    found = _api(site, "GET", f"/api/v1/guests/?surname=Lima{tag}")["results"]
    assert len(found) == 1, found
    ana = found[0]
    assert (ana["given_name"], ana["email"], ana["birth_date"], ana["phone"]) == (
        "Ana",
        f"ana.{tag}@example.com",
        "1990-04-01",
        "+351912345678",
    )
    assert len(_api(site, "GET", f"/api/v1/guests/?surname=Chen{tag}")["results"]) == 1
