"""End to end in a real browser: Debian's headless Chromium, driven by Playwright,
against the whole stack served on a tenant's own domain. Screenshots of each step are
saved under test-artifacts/<test>/."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import PASSWORD

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests need the playwright package: pip install -e '.[dev]'",
)
Page, expect = sync_api.Page, sync_api.expect

# The django_db mark makes pytest-django create the test database even when only these
# tests run; what they check is committed by the server's own connections.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _signed_in(new_page, email: str) -> Page:
    page = new_page()
    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard is enough to sign in
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def _api_get(site, path: str, language: str = "en") -> dict:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        f"http://127.0.0.1:{site.port}{path}",
        headers={
            "Host": f"{site.domain}:{site.port}",
            "Authorization": f"Bearer {site.api_token}",
            "Accept-Language": language,
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return json.loads(response.read())


def _switch_language(page: Page, name: str) -> None:
    page.locator("#ui-language").select_option(label=name)
    page.locator("form.language button").click()
    page.wait_for_load_state()


def test_admin_adds_a_translated_choice_field_staff_filter_and_see_it(new_page, live_site, shots):
    site = live_site
    # --- the tenant admin designs the field ---------------------------------------
    admin = _signed_in(new_page, site.admin_email)
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="Record types and fields").click()
    admin.get_by_role("link", name="Guests", exact=True).last.click()
    expect(admin.get_by_role("heading", name="Fields of Guest")).to_be_visible()
    admin.get_by_role("link", name="Add a field").click()

    admin.get_by_label("API name").fill("pillow_type")
    admin.get_by_label("Type", exact=True).select_option(label="Choice")
    admin.get_by_label("Label (English)").fill("Pillow type")
    admin.get_by_label("Label (简体中文)", exact=True).fill("枕头类型")
    admin.get_by_label("Label (繁體中文)", exact=True).fill("枕頭類型")
    for number, (value, en, hans, hant) in enumerate(
        [
            ("feather", "Feather", "羽绒枕", "羽絨枕"),
            ("foam", "Memory foam", "记忆棉枕", "記憶棉枕"),
        ],
        start=1,
    ):
        admin.get_by_label(f"Value of choice {number}", exact=True).fill(value)
        admin.get_by_label(f"Label of choice {number} in English", exact=True).fill(en)
        admin.get_by_label(f"Label of choice {number} in 简体中文", exact=True).fill(hans)
        admin.get_by_label(f"Label of choice {number} in 繁體中文", exact=True).fill(hant)
    # htmx adds a row to the choices editor without leaving the page.
    admin.get_by_role("button", name="Add a choice").click()
    expect(admin.get_by_label("Value of choice 4", exact=True)).to_be_visible()
    admin.get_by_label("Filterable").check()
    admin.get_by_label("Section", exact=True).fill("Preferences")
    shots(admin, "designer-filled")
    admin.get_by_role("button", name="Save field").click()

    row = admin.locator("#field-pillow_type")
    expect(admin.get_by_text("Field pillow_type added.")).to_be_visible()
    expect(row).to_contain_text("Pillow type")
    expect(row).to_contain_text("Choice")
    expect(row).to_contain_text("Filterable")
    shots(admin, "field-list")

    # --- a front-office user sets it on a guest -----------------------------------
    staff = _signed_in(new_page, site.staff_email)
    expect(staff.get_by_role("link", name="Settings")).to_have_count(0)
    staff.get_by_role("link", name="Guests").click()
    staff.get_by_role("link", name="Lima, Ana").click()
    staff.get_by_role("link", name="Edit").click()
    staff.get_by_label("Pillow type").select_option(label="Memory foam")
    shots(staff, "guest-edit")
    staff.get_by_role("button", name="Save").click()
    expect(staff.get_by_text("Changes saved.")).to_be_visible()
    expect(staff.locator('[data-field="custom.pillow_type"]')).to_have_text("Memory foam")
    ana_url = staff.url

    # --- filters the list by it -----------------------------------------------------
    staff.get_by_role("link", name="Guests").click()
    staff.get_by_label("Pillow type").select_option(label="Memory foam")
    staff.get_by_role("button", name="Apply").click()
    table = staff.locator("table tbody")
    expect(table.get_by_role("link", name="Lima, Ana")).to_be_visible()
    expect(table).not_to_contain_text("Chen, Bo")
    expect(table).to_contain_text("Memory foam")
    shots(staff, "guest-list-filtered")

    # --- sees it on the profile in both Chinese scripts and in English ---------------
    staff.goto(ana_url)
    _switch_language(staff, "简体中文")
    expect(staff.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(staff.locator("dl.details dt", has_text="枕头类型")).to_be_visible()
    expect(staff.locator('[data-field="custom.pillow_type"]')).to_have_text("记忆棉枕")
    shots(staff, "profile-zh-hans")
    _switch_language(staff, "繁體中文")
    expect(staff.locator("dl.details dt", has_text="枕頭類型")).to_be_visible()
    expect(staff.locator('[data-field="custom.pillow_type"]')).to_have_text("記憶棉枕")
    shots(staff, "profile-zh-hant")
    _switch_language(staff, "English")
    expect(staff.locator("dl.details dt", has_text="Pillow type")).to_be_visible()

    # --- the API returns the same value ------------------------------------------------
    guest = _api_get(site, f"/api/v1/guests/{site.guests['ana']}/")
    assert guest["custom"] == {"pillow_type": "foam"}
    filtered = _api_get(site, "/api/v1/guests/?custom.pillow_type=foam")
    assert [g["surname"] for g in filtered["results"]] == ["Lima"]
    described = _api_get(site, "/api/v1/metadata/objects/guest/", language="zh-hans")
    [field] = [f for f in described["fields"] if f["api_name"] == "pillow_type"]
    assert field["label"] == "枕头类型" and field["filterable"] is True
    assert {"value": "foam", "label": "记忆棉枕"} in field["choices"]


def test_front_office_does_not_see_the_identity_number_an_admin_does(new_page, live_site, shots):
    site = live_site
    profile = f"/guests/{site.guests['mei']}/"

    staff = _signed_in(new_page, site.staff_email)
    staff.goto(profile)
    expect(staff.get_by_role("heading", name="Mei Wong")).to_be_visible()
    expect(staff.locator('[data-field="id_document_number"]')).to_have_count(0)
    expect(staff.get_by_text("Identity number")).to_have_count(0)
    assert "K7654321" not in staff.content()
    shots(staff, "front-office-profile")
    staff.goto(profile + "edit/")
    expect(staff.get_by_label("Surname")).to_have_value("Wong")
    expect(staff.get_by_label("Identity number")).to_have_count(0)
    assert "K7654321" not in staff.content()

    admin = _signed_in(new_page, site.admin_email)
    admin.goto(profile)
    expect(admin.locator('[data-field="id_document_number"]')).to_have_text("K7654321")
    expect(admin.locator("dl.details dt", has_text="Identity number")).to_be_visible()
    shots(admin, "admin-profile")


def test_keyboard_and_tablet(new_page, live_site, shots):
    """Sign in and reach a guest with the keyboard alone, on a tablet-sized screen, and
    nothing spills sideways out of the page."""
    page = new_page(width=820, height=1180)
    page.goto("/login/")
    expect(page.get_by_label("E-mail")).to_be_focused()  # autofocus: type straight away
    page.keyboard.type(live_site.staff_email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.goto("/guests/")
    page.keyboard.press("Tab")  # the first stop skips the navigation
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.get_by_label("Search", exact=True).focus()
    page.keyboard.type("Wong")
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Wong, Mei")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mei Wong")).to_be_visible()
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits)
    shots(page, "tablet-profile")
    page.goto("/guests/")
    assert page.evaluate(fits)
    shots(page, "tablet-guest-list")


def test_admin_builds_a_workflow_and_dry_runs_it_without_side_effects(new_page, live_site, shots):
    from django_tenants.utils import schema_context

    from crm.models import Activity
    from metadata.models import Workflow, WorkflowRun

    site = live_site
    admin = _signed_in(new_page, site.admin_email)
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="Workflows", exact=True).click()
    admin.get_by_role("link", name="New workflow").click()

    admin.get_by_label("Key", exact=True).fill("checkout_task")
    admin.get_by_label("Name (English)").fill("Check-out follow-up")
    admin.get_by_label("Object", exact=True).select_option(
        "reservation"
    )  # htmx re-renders the form
    admin.wait_for_load_state("networkidle")
    admin.get_by_label("Trigger", exact=True).select_option("record_updated")
    watched = admin.get_by_label("Watched fields (comma separated; empty: any change)")
    expect(watched).to_be_visible()
    watched.fill("status")
    admin.get_by_role("button", name="Add a change").click()
    expect(admin.get_by_label("New value", exact=True)).to_be_visible()
    admin.get_by_label("Field", exact=True).fill("status")
    admin.get_by_label("New value", exact=True).fill("checked_out")
    admin.get_by_role("button", name="Add an action").click()
    subject = admin.get_by_label("Subject (English)")
    expect(subject).to_be_visible()
    subject.fill("Thank {{ guest.full_name }} for the stay")
    shots(admin, "workflow-builder")
    admin.get_by_role("button", name="Create workflow").click()
    expect(admin.get_by_role("heading", name="Check-out follow-up")).to_be_visible()

    admin.get_by_label("Record (reservation id)").fill(str(site.reservations["ana"]))
    admin.get_by_role("button", name="Dry run").click()
    report = admin.locator("#dry-run-report")
    expect(report).to_contain_text("Create a task")
    expect(report).to_contain_text("Thank Ana Lima for the stay")
    shots(admin, "workflow-dry-run")

    with schema_context(site.tenant.schema_name):
        workflow = Workflow.objects.get(key="checkout_task")
        assert workflow.current_version.trigger == {
            "type": "record_updated",
            "fields": ["status"],
            "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}],
        }
        assert not Activity.objects.filter(kind="task").exists()
        assert not WorkflowRun.objects.filter(workflow=workflow).exists()
