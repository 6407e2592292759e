"""In Chromium, as front-office staff would: a new profile typed with the e-mail of a
guest who already has one is held back with a warning naming that guest and why; the
desk opens the existing profile, or confirms that it is someone else and creates it.
Once in English and once in Simplified Chinese. Screenshots go to
test-artifacts/<test>/."""

from __future__ import annotations

import pytest

from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _api, _words

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_duplicate_warning_appears_on_create_and_the_desk_decides(
    new_page, live_site, shots, language
):
    from django.core.management import call_command

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = live_site
    surname = f"Lima{language.replace('-', '')}"
    words = _words(
        language, "This guest may already have a profile", "same e-mail", "Save",
        "Guest profile created.",
    )  # fmt: skip
    if language != "en":
        assert words["same e-mail"] != "same e-mail"
    before = len(_api(site, "GET", "/api/v1/guests/?limit=100")["results"])

    page = _signed_in(new_page, site.staff_email)
    if language != "en":
        _switch_language(page, "简体中文")
    page.goto("/guests/new/")
    page.locator("[name=given_name]").fill("Ana")
    page.locator("[name=surname]").fill(surname)
    page.locator("[name=email]").fill("ANA@example.com")  # Ana Lima's, in capitals
    page.get_by_role("button", name=words["Save"], exact=True).click()

    warning = page.locator("[data-lookalikes]")
    expect(warning).to_contain_text(words["This guest may already have a profile"])
    expect(warning).to_contain_text(words["same e-mail"])
    expect(warning.get_by_role("link", name="Ana Lima", exact=True)).to_be_visible()
    shots(page, f"warned-{language}")
    assert len(_api(site, "GET", "/api/v1/guests/?limit=100")["results"]) == before

    page.locator("[name=create_anyway]").check()
    page.get_by_role("button", name=words["Save"], exact=True).click()

    expect(page.get_by_text(words["Guest profile created."])).to_be_visible()
    shots(page, f"created-{language}")
    made = _api(site, "GET", f"/api/v1/guests/?surname={surname}")["results"]
    assert [(g["given_name"], g["email"]) for g in made] == [("Ana", "ANA@example.com")]
