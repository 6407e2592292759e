"""In Chromium, as front-office staff would: check a guest in and out on the reservation
screen, and a workflow watching the status creates its task; the balance shows what is
owed. Once in English and once in Simplified Chinese. Screenshots go to
test-artifacts/<test>/."""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta

import pytest

from tests.ui.test_browser import _signed_in, _switch_language

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _api(site, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        f"http://127.0.0.1:{site.port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Host": f"{site.domain}:{site.port}",
            "Authorization": f"Bearer {site.api_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return json.loads(response.read())


def _words(language: str, *texts: str) -> dict[str, str]:
    from django.utils import translation

    with translation.override(language):
        return {text: translation.gettext(text) for text in texts}


@pytest.fixture
def workflows_inline(settings):
    """Runs execute in the request that triggers them (the server thread), no worker."""
    settings.ATRIUM_WORKFLOWS_INLINE = True


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_front_office_checks_a_guest_out_and_a_workflow_fires(
    new_page, live_site, shots, language, workflows_inline
):
    from django.core.management import call_command

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = live_site
    words = _words(
        language, "Check in", "Check out", "Guest checked in.", "Guest checked out.",
        "Checked out", "In house", "Balance due",
    )  # fmt: skip
    if language != "en":
        assert words["Check out"] != "Check out"
    key = f"thank_you_{language.replace('-', '_')}"
    _api(site, "POST", "/api/v1/workflows/", {
        "key": key, "name": "Thank-you task", "object": "reservation", "enabled": True,
        "trigger": {"type": "record_updated", "fields": ["status"], "changes": [
            {"field": "status", "to": {"op": "eq", "value": "checked_out"}}]},
        "actions": [{"type": "create_task", "subject": f"Thank-you note {language}"}],
    })  # fmt: skip
    [hotel] = _api(site, "GET", "/api/v1/properties/?code=HBR")["results"]
    stay = _api(site, "POST", "/api/v1/reservations/", {
        "property": hotel["id"], "guest": site.guests["bo"],
        "confirmation_number": f"HBR-{language}", "arrival": date.today().isoformat(),
        "departure": (date.today() + timedelta(days=1)).isoformat(), "total_amount": "180",
    })  # fmt: skip
    _api(site, "POST", f"/api/v1/reservations/{stay['id']}/folio/",
         {"kind": "room", "amount": "180", "posted_on": date.today().isoformat()})  # fmt: skip
    _api(site, "POST", f"/api/v1/reservations/{stay['id']}/payments/",
         {"method": "card", "amount": "80"})  # fmt: skip

    staff = _signed_in(new_page, site.staff_email)
    if language != "en":
        _switch_language(staff, "简体中文")
    staff.goto(f"/reservations/{stay['id']}/")
    expect(staff.locator('tr[data-balance="EUR"]')).to_contain_text("100")
    expect(staff.get_by_role("button", name=words["Check out"], exact=True)).to_have_count(0)
    staff.get_by_role("button", name=words["Check in"], exact=True).click()
    expect(staff.get_by_role("status").filter(has_text=words["Guest checked in."])).to_be_visible()
    expect(staff.locator('[data-field="status"]')).to_contain_text(words["In house"])
    shots(staff, f"{language}-checked-in")
    staff.get_by_role("button", name=words["Check out"], exact=True).click()
    expect(staff.get_by_role("status").filter(has_text=words["Guest checked out."])).to_be_visible()
    expect(staff.locator('[data-field="status"]')).to_contain_text(words["Checked out"])
    shots(staff, f"{language}-checked-out")

    # Switched off again, so the other language's run meets only its own workflow.
    _api(site, "PATCH", f"/api/v1/workflows/{key}/", {"enabled": False})
    runs = _api(site, "GET", f"/api/v1/workflows/{key}/runs/")["results"]
    assert [(r["record_id"], r["status"]) for r in runs] == [(str(stay["id"]), "succeeded")]
    tasks = _api(site, "GET", f"/api/v1/activities/?object=reservation&record_id={stay['id']}")
    assert [t["subject"] for t in tasks["results"] if t["kind"] == "task"] == [
        f"Thank-you note {language}"
    ]
