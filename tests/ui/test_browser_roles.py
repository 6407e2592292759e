"""In Chromium, as people would: an administrator creates a record type, a role that may
view, create and edit it, and a staff account holding that role; the new colleague
signs in, chooses a password and creates a record of the new type. Once in English and
once in Simplified Chinese. Screenshots go to test-artifacts/<test>/."""

from __future__ import annotations

import re

import pytest

from tests.ui.test_browser import _signed_in, _switch_language

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NEW_PASSWORD = "spa-Desk-password-2030"

# Each language's words on the screens this test walks, and the names it types.
RUNS = {
    "en": {
        "language": None,
        "api_name": "spa_booking",
        "label": "Spa booking",
        "plural": "Spa bookings",
        "role": "Spa desk",
        "role_key": "",  # filled in from the name
        "email": "spa-desk@example.com",
        "record": "Hot stone massage, room 214",
        "add_type": "Add record type",
        "create_role": "Create role",
        "role_heading": "Role: Spa desk",
        "view": "View: Spa bookings",
        "create": "Create: Spa bookings",
        "edit": "Edit: Spa bookings",
        "fields": "Fields of Spa bookings",
        "save_role": "Save role",
        "saved": "Role Spa desk saved.",
        "create_user": "Create user",
        "save_access": "Save access",
        "records_menu": "Records",
        "new": "New Spa booking",
        "save": "Save",
    },
    "zh-hans": {
        "language": "简体中文",
        "api_name": "spa_booking_zh",
        "label": "水疗预约",
        "plural": "水疗预约",
        "role": "水疗前台",
        "role_key": "spa_desk_zh",  # a Chinese name gives no key of its own
        "email": "spa-desk-zh@example.com",
        "record": "热石按摩，214 房",
        "add_type": "添加记录类型",
        "create_role": "创建角色",
        "role_heading": "角色：水疗前台",
        "view": "查看：水疗预约",
        "create": "创建：水疗预约",
        "edit": "编辑：水疗预约",
        "fields": "水疗预约的字段",
        "save_role": "保存角色",
        "saved": "角色 水疗前台 已保存。",
        "create_user": None,  # looked up in the catalogue below
        "save_access": "保存访问权限",
        "records_menu": None,
        "new": "新建水疗预约",
        "save": "保存",
    },
}


def _catalogue(language: str, text: str, context: str | None = None) -> str:
    from django.utils import translation

    with translation.override(language):
        if context:
            return translation.pgettext(context, text)
        return translation.gettext(text)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_grants_a_custom_role_a_new_record_type_and_its_member_creates_a_record(
    new_page, live_site, shots, language
):
    from django_tenants.utils import schema_context

    run = dict(RUNS[language])
    run["create_user"] = run["create_user"] or _catalogue(language, "Create user")
    run["records_menu"] = run["records_menu"] or _catalogue(language, "Records", "menu")
    assert run["create_user"] != "Create user" or language == "en"  # the catalogue answers
    site = live_site

    # --- the administrator makes the record type -------------------------------------
    admin = _signed_in(new_page, site.admin_email)
    if run["language"]:
        _switch_language(admin, run["language"])
    admin.goto("/settings/objects/")
    admin.locator("#id_api_name").fill(run["api_name"])
    admin.locator("#id_module").select_option("guests")
    admin.locator("#id_label_en").fill("Spa booking")
    admin.locator("#id_plural_en").fill("Spa bookings")
    if language != "en":
        admin.locator(f"#id_label_{language}").fill(run["label"])
        admin.locator(f"#id_plural_{language}").fill(run["plural"])
    admin.get_by_role("button", name=run["add_type"]).click()
    # Made: the designer opens the new type's (empty) field list.
    admin.wait_for_url(re.compile(rf"/settings/objects/{run['api_name']}/fields/$"))
    shots(admin, f"{language}-record-type-created")

    # --- a role that may view, create and edit it --------------------------------------
    admin.goto("/settings/roles/")
    admin.locator("#id_name").fill(run["role"])
    if run["role_key"]:
        admin.locator("#id_key").fill(run["role_key"])
    admin.locator("#id_description").fill("Spa reception")
    admin.get_by_role("button", name=run["create_role"]).click()
    expect(admin.get_by_role("heading", name=run["role_heading"])).to_be_visible()
    for right in ("view", "create", "edit"):
        box = admin.get_by_label(run[right], exact=True)
        expect(box).not_to_be_checked()
        box.check()
    admin.get_by_label(run["fields"], exact=True).select_option("edit")
    shots(admin, f"{language}-role-rights")
    admin.get_by_role("button", name=run["save_role"]).click()
    expect(admin.get_by_role("status").filter(has_text=run["saved"])).to_be_visible()
    for right in ("view", "create", "edit"):
        expect(admin.get_by_label(run[right], exact=True)).to_be_checked()
    expect(admin.get_by_label(run["fields"], exact=True)).to_have_value("edit")

    # --- a staff account, then the role given on the account's page --------------------
    admin.goto("/settings/users/")
    admin.locator("#id_email").fill(run["email"])
    admin.get_by_role("button", name=run["create_user"]).click()
    password = admin.locator("#one-time-password").inner_text().strip()
    assert len(password) >= 12
    admin.get_by_role("link", name=run["email"]).click()
    admin.get_by_label(run["role"], exact=True).check()
    admin.get_by_role("button", name=run["save_access"]).click()
    expect(admin.get_by_label(run["role"], exact=True)).to_be_checked()
    shots(admin, f"{language}-user-access")

    # --- the new colleague signs in and creates a record -------------------------------
    member = new_page()
    member.goto("/login/")
    member.locator("#id_username").fill(run["email"])
    member.locator("#id_password").fill(password)
    member.locator("#id_password").press("Enter")
    member.wait_for_url(re.compile(r"/account/password/"))
    member.locator("#id_old_password").fill(password)
    member.locator("#id_new_password1").fill(NEW_PASSWORD)
    member.locator("#id_new_password2").fill(NEW_PASSWORD)
    member.locator("#id_new_password2").press("Enter")
    member.wait_for_url(re.compile(r"/$"))
    if run["language"]:
        _switch_language(member, run["language"])
    member.locator("details.records-menu summary").click()
    member.get_by_role("link", name=run["plural"], exact=True).click()
    member.get_by_role("link", name=run["new"]).click()
    member.locator("#id_name").fill(run["record"])
    shots(member, f"{language}-new-record-form")
    member.get_by_role("button", name=run["save"], exact=True).click()
    expect(member.get_by_role("heading", name=run["record"])).to_be_visible()
    shots(member, f"{language}-record-created")

    # --- front office, without the role, does not even see the record type -------------
    desk = _signed_in(new_page, site.staff_email)
    expect(desk.get_by_role("link", name="Spa bookings")).to_have_count(0)
    assert desk.goto(f"/records/{run['api_name']}/").status == 403

    with schema_context(site.tenant.schema_name):
        from metadata.models import Record
        from tenants.access.models import AuditEvent, ObjectPermission
        from tenants.users.models import User

        record = Record.objects.get(object__api_name=run["api_name"])
        assert record.name == run["record"]
        assert record.owner_id == User.objects.get(email=run["email"]).pk
        row = ObjectPermission.objects.get(target=run["api_name"])
        assert sorted(row.actions()) == ["create", "edit", "view"]
        assert row.field_default == "edit"
        assert AuditEvent.objects.filter(
            action="permission_change",
            object_api_name=run["api_name"],
            actor__email=site.admin_email,
        ).exists()
