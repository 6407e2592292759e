"""In Chromium, as a hotel's administrator would: tick "Required" on a guest field that
most guests have no value for; the form says how many and offers to fill them; the
administrator gives the value and saves, and every guest then holds one (the one that
had a value keeps it). Once in English and once in Traditional Chinese. Screenshots go
to test-artifacts/<test>/."""

from __future__ import annotations

import pytest

from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _api, _words

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_admin_makes_a_field_required_and_fills_the_guests_without_a_value(
    new_page, live_site, shots, language
):
    from django.core.management import call_command

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = live_site
    name = f"room_view_{language.replace('-', '_')}"
    _api(site, "POST", "/api/v1/metadata/objects/guest/fields/",
         {"api_name": name, "label": "Room view", "type": "text"})  # fmt: skip
    ana = site.guests["ana"]
    _api(site, "PATCH", f"/api/v1/guests/{ana}/", {"custom": {name: "Sea"}})
    guests = _api(site, "GET", "/api/v1/guests/?limit=100")["results"]
    without = len(guests) - 1
    assert without >= 1
    words = _words(language, "Save field", "Field %(name)s saved.")

    page = _signed_in(new_page, site.admin_email)
    if language != "en":
        _switch_language(page, "繁體中文")
    page.goto(f"/settings/objects/guest/fields/{name}/")
    page.locator("#id_required").check()
    page.get_by_role("button", name=words["Save field"]).click()

    # Refused for now, naming how many guests lack a value, and offering to fill them.
    expect(page.locator("#backfill-count")).to_contain_text(str(without))
    expect(page.locator("#id_required")).to_be_checked()
    shots(page, f"backfill-asked-{language}")
    assert all(g["custom"].get(name) in (None, "") for g in guests if g["id"] != ana)
    page.locator("#id_backfill").fill("Garden")
    page.get_by_role("button", name=words["Save field"]).click()

    expect(page.get_by_text(words["Field %(name)s saved."] % {"name": name})).to_be_visible()
    shots(page, f"backfill-done-{language}")
    after = {
        g["id"]: g["custom"].get(name)
        for g in _api(site, "GET", "/api/v1/guests/?limit=100")["results"]
    }
    assert after.pop(ana) == "Sea"
    assert set(after.values()) == {"Garden"} and len(after) == without
    [field] = [
        f for f in _api(site, "GET", "/api/v1/metadata/objects/guest/")["fields"]
        if f["api_name"] == name
    ]  # fmt: skip
    assert field["required"] is True
