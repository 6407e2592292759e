"""The loyalty screens: an administrator keeps the programme, tiers and rewards (others
read them, a front-office user cannot change them); staff enrol a guest from the profile,
open the member's card, redeem a reward and confirm it; bad input is a message; the
screens are closed while the module is off."""

from __future__ import annotations

import pytest

from crm.loyalty.models import Member, Redemption, Reward, Tier
from crm.loyalty.services.ledger import points_adjust
from metadata.services.modules import module_set_enabled
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_an_admin_keeps_the_programme_and_staff_only_read_it(programme, make_user):
    admin = tenant_client(programme["tenant"])
    page = admin.get("/loyalty/")
    assert page.status_code == 200 and "Gold" in page.content.decode()
    saved = admin.post(
        "/loyalty/action/",
        {"action": "programme", "name": "Harbour Club", "name_zh-hans": "海港会",
         "points_per_unit": "2", "expiry_months": "36", "qualification_months": "12"},
        follow=True,
    )  # fmt: skip
    assert "Harbour Club" in saved.content.decode()
    added = admin.post(
        "/loyalty/action/",
        {"action": "tier", "key": "platinum", "name": "Platinum", "name_zh-hans": "白金卡",
         "rank": "2", "min_nights": "40", "min_stays": "0", "min_revenue": "8000",
         "earn_multiplier": "2"},
        follow=True,
    )  # fmt: skip
    assert added.status_code == 200
    platinum = Tier.objects.get(key="platinum")
    assert (platinum.min_nights, platinum.name_zh_hans) == (40, "白金卡")
    clash = admin.post(
        "/loyalty/action/",
        {"action": "tier", "key": "again", "name": "Again", "rank": "2"},
        follow=True,
    )
    assert "rank 2" in clash.content.decode() and not Tier.objects.filter(key="again").exists()
    bad = admin.post(
        "/loyalty/action/", {"action": "reward", "key": "x", "name": "X", "points": "lots"},
        follow=True,
    )  # fmt: skip
    assert bad.status_code == 200 and not Reward.objects.filter(key="x").exists()
    assert admin.post(
        "/loyalty/action/",
        {"action": "reward", "key": "suite", "name": "Suite upgrade", "kind": "upgrade",
         "points": "500"},
    ).status_code == 302  # fmt: skip
    assert Reward.objects.get(key="suite").points == 500

    desk = client_for(make_user("front_office"), programme["tenant"])
    assert desk.get("/loyalty/").status_code == 200
    refused = desk.post(
        "/loyalty/action/",
        {"action": "programme", "name": "Mine", "points_per_unit": "9", "expiry_months": "1",
         "qualification_months": "1"},
    )  # fmt: skip
    assert refused.status_code == 403
    assert Tier.objects.count() == 3


def test_staff_enrol_a_guest_and_redeem_a_reward_on_the_card(programme, make_user):
    guest = make_guest(given_name="Ines", surname="Sousa")
    reward = Reward.objects.create(key="dinner", name="Dinner for two", points=300)
    desk_user = make_user("front_office")
    desk = client_for(desk_user, programme["tenant"])
    profile = desk.get(f"/guests/{guest.pk}/").content.decode()
    enrol_url = f"/guests/{guest.pk}/enrol/"
    if 'action="' + enrol_url not in profile:
        pytest.fail("the profile offers no enrolment to front office")
    assert desk.post(enrol_url).status_code == 302
    member = Member.objects.get(guest=guest)
    assert desk.post(enrol_url, follow=True).status_code == 200  # already a member: a message
    assert Member.objects.filter(guest=guest).count() == 1
    profile = desk.get(f"/guests/{guest.pk}/").content.decode()
    assert f"/loyalty/members/{member.pk}/" in profile and member.number in profile

    points_adjust(member=member, points=1000, reason="Welcome", actor=SYSTEM)
    card = f"/loyalty/members/{member.pk}/"
    page = desk.get(card).content.decode()
    assert "Dinner for two" in page and "1,000" in page
    assert (
        desk.post(card + "action/", {"action": "reserve", "reward": reward.pk}).status_code == 302
    )
    held = Redemption.objects.get(member=member)
    member.refresh_from_db()
    assert (held.status, member.balance) == ("reserved", 700)
    assert desk.post(
        card + "action/", {"action": "confirm", "redemption": held.pk}
    ).status_code == (302)
    held.refresh_from_db()
    assert held.status == "confirmed"
    # Only administrators adjust; a stranger's redemption id is a 404.
    assert desk.post(
        card + "action/", {"action": "adjust", "points": "50", "reason": "x"}
    ).status_code == (403)
    other = Member.objects.create(guest=make_guest(), number="X1")
    assert (
        desk.post(
            f"/loyalty/members/{other.pk}/action/", {"action": "cancel", "redemption": held.pk}
        ).status_code
        == 404
    )
    assert desk.get("/loyalty/members/99999999999999999999/").status_code == 404

    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    assert desk.get(card).status_code == 403
    assert desk.get("/loyalty/").status_code == 403
    assert 'href="/loyalty/"' not in desk.get("/").content.decode()
