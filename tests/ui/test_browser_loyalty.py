"""In Chromium, in Simplified Chinese: an administrator sets up a two-tier programme and
a reward on the loyalty screen, front office enrols a guest from the profile and checks
the guest in and out, the stay earns points and lifts the member to the upper tier, and
the member redeems the reward at the desk. Screenshots go to test-artifacts/<test>/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django_tenants.utils import tenant_context

from tests.principals import SYSTEM
from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _api, _words

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def loyalty_site(live_site, django_db_blocker):
    """The live group with the loyalty module on (committed, for the server)."""
    from metadata.services.modules import module_set_enabled

    with django_db_blocker.unblock(), tenant_context(live_site.tenant):
        module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    return live_site


def test_a_two_tier_programme_a_stay_an_upgrade_and_a_redemption_in_chinese(
    new_page, loyalty_site, shots
):
    from django.core.management import call_command

    from crm.loyalty.models import Member, Redemption

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    site = loyalty_site
    w = _words(
        "zh-hans", "Loyalty", "Save", "The programme is saved.", "Key", "Name", "Rank",
        "Nights", "Add tier", "The tier is added.", "Points", "Add reward",
        "The reward is added.", "Enrol in the loyalty programme", "The guest is a member now.",
        "Check in", "Check out", "Guest checked out.", "Redeem",
        "The points are held for the reward.", "Confirm", "The redemption is confirmed.",
        "Confirmed", "Points per unit of the base currency",
    )  # fmt: skip
    assert w["Loyalty"] != "Loyalty"

    admin = _signed_in(new_page, site.admin_email)
    _switch_language(admin, "简体中文")
    admin.get_by_role("link", name=w["Loyalty"], exact=True).click()
    admin.locator("#p-name").fill("Harbour Club")
    admin.locator("#p-name-zh-hans").fill("海港会")
    admin.get_by_label(w["Points per unit of the base currency"]).fill("1")
    admin.get_by_role("button", name=w["Save"]).click()
    expect(admin.get_by_text(w["The programme is saved."])).to_be_visible()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("海港会")
    for key, name, zh, rank, nights in (("blue", "Blue", "蓝卡", "0", "0"),
                                        ("gold", "Gold", "金卡", "1", "2")):  # fmt: skip
        admin.locator("#t-key").fill(key)
        admin.locator("#t-name").fill(name)
        admin.locator("#t-name-zh-hans").fill(zh)
        admin.locator("#t-rank").fill(rank)
        admin.locator("#t-nights").fill(nights)
        admin.get_by_role("button", name=w["Add tier"]).click()
        expect(admin.get_by_text(w["The tier is added."])).to_be_visible()
    expect(admin.locator('tr[data-tier="gold"]')).to_contain_text("金卡")
    admin.locator("#r-key").fill("spa")
    admin.locator("#r-name").fill("Spa voucher")
    admin.locator("#r-points").fill("200")
    admin.get_by_role("button", name=w["Add reward"]).click()
    expect(admin.get_by_text(w["The reward is added."])).to_be_visible()
    shots(admin, "programme")

    desk = _signed_in(new_page, site.staff_email)
    _switch_language(desk, "简体中文")
    guest = site.guests["bo"]
    desk.goto(f"/guests/{guest}/")
    desk.get_by_role("button", name=w["Enrol in the loyalty programme"]).click()
    expect(desk.get_by_text(w["The guest is a member now."])).to_be_visible()
    expect(desk.locator('[data-field="loyalty.tier"]')).to_have_text("蓝卡")

    [hotel] = _api(site, "GET", "/api/v1/properties/?code=HBR")["results"]
    stay = _api(site, "POST", "/api/v1/reservations/", {
        "property": hotel["id"], "guest": guest, "confirmation_number": "HBR-LOY",
        "arrival": (date.today() - timedelta(days=2)).isoformat(),
        "departure": date.today().isoformat(), "total_amount": "300",
    })  # fmt: skip
    desk.goto(f"/reservations/{stay['id']}/")
    desk.get_by_role("button", name=w["Check in"], exact=True).click()
    desk.get_by_role("button", name=w["Check out"], exact=True).click()
    expect(desk.get_by_role("status").filter(has_text=w["Guest checked out."])).to_be_visible()

    desk.goto(f"/guests/{guest}/")
    expect(desk.locator('[data-field="loyalty.tier"]')).to_have_text("金卡")
    expect(desk.locator('[data-field="loyalty.balance"]')).to_have_text("300")
    shots(desk, "upgraded")
    desk.locator("[data-loyalty] a").click()
    desk.get_by_role("button", name=w["Redeem"]).click()
    expect(desk.get_by_text(w["The points are held for the reward."])).to_be_visible()
    desk.get_by_role("button", name=w["Confirm"]).click()
    expect(desk.get_by_text(w["The redemption is confirmed."])).to_be_visible()
    expect(desk.locator('[data-field="redemption-status"]')).to_have_text(w["Confirmed"])
    expect(desk.locator('[data-field="balance"]')).to_have_text("100")
    shots(desk, "redeemed")
    with tenant_context(site.tenant):
        member = Member.objects.get(guest_id=guest)
        assert (member.tier.key, member.balance) == ("gold", 100)
        assert Redemption.objects.get(member=member).status == "confirmed"
