"""In Chromium, as an administrator would: record a guest's consent on the profile,
download the guest's data (JSON and a zip of CSV files), then erase the guest; afterwards
no table of the hotel group's schema holds the guest's name or e-mail address. Once in
English and once in Simplified Chinese. Screenshots go to test-artifacts/<test>/."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile

import pytest

from tests.crm.services.test_guest_privacy_erase import _places_holding
from tests.ui.test_browser import _signed_in, _switch_language

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

RUNS = {
    "en": {
        "language": None,
        "given": "Ottoline",
        "surname": "Erasewell",
        "email": "ottoline.erasewell@example.org",
    },  # fmt: skip
    "zh-hans": {
        "language": "简体中文",
        "given": "娜娜",
        "surname": "欧阳",
        "email": "ouyang.nana@example.cn",
    },  # fmt: skip
}


def _words(language: str, *texts: str) -> dict[str, str]:
    """The screens' words in the run's language, from the compiled catalogue (so a
    missing translation shows up as English and fails the Chinese run's checks)."""
    from django.utils import translation

    with translation.override(language):
        return {text: translation.gettext(text) for text in texts}


def _api(site, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        f"http://127.0.0.1:{site.port}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Host": f"{site.domain}:{site.port}",
            "Authorization": f"Bearer {site.api_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return json.loads(response.read())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_records_consent_exports_and_erases_a_guest(new_page, live_site, shots, language):
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    run = RUNS[language]
    site = live_site
    words = _words(
        language, "Record consent", "Channel", "Purpose", "Opt-in", "Consent recorded.",
        "Export data (JSON)", "Export data (ZIP with CSV files)", "Erase this guest",
        "Reason", "I understand that erasure cannot be undone", "Erase personal data",
        "The guest's personal data was erased.", "E-mail", "Marketing", "Yes",
        "Source (web form, front desk, phone call...)",
    )  # fmt: skip
    if language != "en":
        assert words["Record consent"] != "Record consent"  # the catalogue answers
    # The guest, with a second address and a case about them, made through the API.
    guest = _api(site, "POST", "/api/v1/guests/", {
        "given_name": run["given"], "surname": run["surname"], "emails": [run["email"]],
    })  # fmt: skip
    _api(site, "POST", f"/api/v1/guests/{guest['id']}/emails/", {"email": f"x.{run['email']}"})
    _api(site, "POST", "/api/v1/cases/", {
        "subject": f"{run['given']} {run['surname']}: noisy room",
        "description": f"Write back to {run['email']}", "guest": guest["id"],
    })  # fmt: skip
    needles = [run["given"], run["surname"], run["email"]]

    admin = _signed_in(new_page, site.admin_email)
    if run["language"]:
        _switch_language(admin, run["language"])
    admin.goto(f"/guests/{guest['id']}/")

    # --- consent --------------------------------------------------------------------
    admin.get_by_text(words["Record consent"], exact=True).first.click()
    admin.get_by_label(words["Channel"], exact=True).select_option(label=words["E-mail"])
    admin.get_by_label(words["Purpose"], exact=True).select_option(label=words["Marketing"])
    admin.get_by_label(words["Opt-in"], exact=True).check()
    admin.get_by_label(words["Source (web form, front desk, phone call...)"]).fill("front desk")
    shots(admin, f"{language}-consent-form")
    admin.get_by_role("button", name=words["Record consent"]).click()
    expect(admin.get_by_role("status").filter(has_text=words["Consent recorded."])).to_be_visible()
    row = admin.locator('tr[data-consent="email/marketing"]')
    expect(row).to_contain_text(words["Yes"])
    expect(row).to_contain_text("front desk")
    expect(row).to_contain_text(site.admin_email)
    shots(admin, f"{language}-consent-recorded")

    # --- export -----------------------------------------------------------------------
    with admin.expect_download() as got:
        admin.get_by_role("link", name=words["Export data (JSON)"]).click()
    data = json.loads(got.value.path().read_text(encoding="utf-8"))
    assert data["profile"]["surname"] == run["surname"]
    assert sorted(e["email"] for e in data["emails"]) == sorted([run["email"], f"x.{run['email']}"])
    assert [(c["channel"], c["opted_in"], c["source"]) for c in data["consents"]] == [
        ("email", True, "front desk")
    ]
    assert data["cases"][0]["description"] == f"Write back to {run['email']}"
    with admin.expect_download() as got:
        admin.get_by_role("link", name=words["Export data (ZIP with CSV files)"]).click()
    archive = zipfile.ZipFile(io.BytesIO(got.value.path().read_bytes()))
    assert run["surname"] in archive.read("profile.csv").decode("utf-8-sig")
    assert "front desk" in archive.read("consents.csv").decode("utf-8-sig")

    with schema_context(site.tenant.schema_name):
        assert _places_holding(needles)  # the guest is really held before the erasure

    # --- erase ------------------------------------------------------------------------
    admin.get_by_text(words["Erase this guest"], exact=True).click()
    admin.get_by_label(words["Reason"], exact=True).fill("request by e-mail")
    erase = admin.get_by_role("button", name=words["Erase personal data"])
    erase.click()  # unticked: the browser asks for the box first, nothing is sent
    erased = words["The guest's personal data was erased."]
    expect(admin.get_by_role("status").filter(has_text=erased)).to_have_count(0)
    expect(admin.get_by_role("heading", level=1)).to_contain_text(run["surname"])
    admin.get_by_label(words["I understand that erasure cannot be undone"]).check()
    shots(admin, f"{language}-erase-confirmed")
    erase.click()
    expect(admin.get_by_role("status").filter(has_text=erased)).to_be_visible()
    expect(admin.locator("main")).not_to_contain_text(run["surname"])
    expect(admin.get_by_role("link", name=words["Export data (JSON)"])).to_have_count(0)
    shots(admin, f"{language}-erased")

    with schema_context(site.tenant.schema_name):
        assert _places_holding(needles) == []
