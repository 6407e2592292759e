"""In Chromium, as front-office staff would: on a guest's profile, log a call, then
create a task for themselves with an e-mail reminder; the reminder sweep (what beat
runs every minute) mails it through a real local SMTP server; the desk completes the
task. Once in English and once in Simplified Chinese. Screenshots go to
test-artifacts/<test>/."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _words
from tests.workflows.smtp import header, text_of

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _sweep(schema: str) -> int:
    """The reminder sweep on a connection of its own, committed like a worker's: the
    browser's requests must not wait on rows this test's transaction would hold."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from crm.services.reminders import task_reminders_send

    try:
        with schema_context(schema):
            return task_reminders_send()
    finally:
        connection.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_front_office_logs_a_call_and_completes_a_task_whose_reminder_arrives(
    new_page, live_site, shots, language, smtp
):
    from django.core.management import call_command

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = live_site
    words = _words(
        language, "Log a call", "Log call", "Call logged.", "Create a task", "Create task",
        "Task created.", "Complete", "Done",
    )  # fmt: skip
    if language != "en":
        assert words["Task created."] != "Task created."
    here = datetime.now(ZoneInfo("Europe/Paris")).replace(second=0, microsecond=0)
    subject = f"Send the spa menu ({language})"

    page = _signed_in(new_page, site.staff_email)
    if language != "en":
        _switch_language(page, "简体中文")
    page.goto(f"/guests/{site.guests['ana']}/")

    page.locator("summary", has_text=words["Log a call"]).click()
    page.locator("#call-subject").fill(f"Asked about the spa ({language})")
    page.locator("#call-direction").select_option("inbound")
    page.locator("#call-minutes").fill("4")
    page.get_by_role("button", name=words["Log call"]).click()
    expect(page.get_by_text(words["Call logged."])).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text(f"Asked about the spa ({language})")

    page.locator("summary", has_text=words["Create a task"]).click()
    page.locator("#task-subject").fill(subject)
    page.locator("#task-due").fill((here + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#task-reminder").fill((here - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    shots(page, f"task-form-{language}")
    page.get_by_role("button", name=words["Create task"]).click()
    expect(page.get_by_text(words["Task created."])).to_be_visible()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_sweep, site.tenant.schema_name).result() == 1
    [mail] = [m for m in smtp.messages if subject in header(m, "Subject")]
    assert mail["X-Envelope-To"] == site.staff_email
    assert f"/guests/{site.guests['ana']}/" in text_of(mail)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_sweep, site.tenant.schema_name).result() == 0  # once only

    task = page.locator("ol.timeline li", has_text=subject)
    task.get_by_role("button", name=words["Complete"]).click()
    expect(page.locator("ol.timeline li", has_text=subject)).to_contain_text(words["Done"])
    shots(page, f"task-done-{language}")
