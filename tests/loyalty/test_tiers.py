"""The tier engine: an immediate upgrade when a stay crosses a threshold (nights or
revenue), announced as loyalty.tier_changed; the nightly review's soft landing (one tier
down at a time, after a year at the tier)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.loyalty.models import Member
from crm.loyalty.services.ledger import months_later
from crm.loyalty.services.programme import tier_create
from crm.loyalty.services.tiers import tiers_review
from crm.models import RecordChange
from tenants.access.principal import Principal
from tenants.integrations.models import WebhookDelivery
from tenants.integrations.webhooks import webhook_endpoint_create
from tenants.users.models import User
from tests.loyalty.conftest import refreshed, stay
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_a_member_starts_in_the_entry_tier(member, programme):
    assert refreshed(member).tier == programme["silver"]
    assert len(member.number) == 10 and member.number.isdigit()


def test_crossing_the_nights_threshold_upgrades_at_once_and_tells_webhooks(hotel, member):
    admin = User.objects.get(email="admin@alpha.test")
    endpoint = webhook_endpoint_create(
        actor=Principal.of(admin),
        url="http://127.0.0.1:9/hooks",
        event_types=["loyalty.tier_changed"],
    )
    stay(hotel=hotel, member=member, nights=6, total="120.00")
    assert refreshed(member).tier.key == "silver"  # 6 nights, 1 stay, 120 EUR: not yet

    stay(hotel=hotel, member=member, nights=4, total="80.00")

    member = refreshed(member)
    assert (member.tier.key, member.tier_since) == ("gold", date.today())
    assert (member.qualifying_nights, member.qualifying_stays) == (10, 2)
    change = RecordChange.objects.get(
        object_api_name="loyalty_account", record_id=str(member.pk), field="tier"
    )
    assert (change.old, change.new) == ("silver", "gold")
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.event_type == "loyalty.tier_changed"
    data = delivery.payload["data"]
    assert (data["old"], data["new"], data["direction"]) == ("silver", "gold", "up")
    assert data["member"] == member.number and data["reason"].startswith("stay ")


def test_crossing_the_revenue_threshold_upgrades_and_the_multiplier_applies_next(hotel, member):
    first = stay(hotel=hotel, member=member, nights=1, total="2000.00")
    member = refreshed(member)
    assert member.tier.key == "gold"
    # The stay that qualified earned at the tier the member had when staying.
    assert member.entries.get(reservation_id=first.pk).points == 2000

    second = stay(hotel=hotel, member=member, nights=1, total="100.00")

    assert member.entries.get(reservation_id=second.pk).points == 150  # Gold earns x1.5
    assert refreshed(member).balance == 2150


def test_stays_outside_the_window_do_not_qualify(hotel, member):
    stay(hotel=hotel, member=member, nights=12, arrival=date.today() - timedelta(days=400))
    member = refreshed(member)
    assert member.tier.key == "silver" and member.qualifying_nights == 0
    assert member.balance == 300  # it still earned its points


@pytest.fixture
def platinum(programme):
    return tier_create(key="platinum", name="Platinum", rank=2, min_nights=50, actor=SYSTEM)


def _at(member: Member, tier, since: date) -> None:
    Member.objects.filter(pk=member.pk).update(tier=tier, tier_since=since)


def test_downgrade_is_a_soft_landing_one_tier_per_year(member, programme, platinum):
    today = date.today()
    _at(member, platinum, months_later(today, -13))

    first = tiers_review(actor=SYSTEM, on=today)

    # No stays at all: the member would qualify for Silver only, but drops one tier.
    assert first["down"] == 1
    assert (refreshed(member).tier.key, refreshed(member).tier_since) == ("gold", today)
    # The same night again, and any night within the year: nothing more.
    assert tiers_review(actor=SYSTEM, on=today)["down"] == 0
    assert tiers_review(actor=SYSTEM, on=months_later(today, 11))["down"] == 0
    assert refreshed(member).tier.key == "gold"
    # A year later: the next step down.
    assert tiers_review(actor=SYSTEM, on=months_later(today, 12))["down"] == 1
    assert refreshed(member).tier.key == "silver"
    changes = RecordChange.objects.filter(
        object_api_name="loyalty_account", record_id=str(member.pk), field="tier"
    ).order_by("pk")
    assert [(c.old, c.new) for c in changes] == [("platinum", "gold"), ("gold", "silver")]


def test_a_member_who_still_qualifies_keeps_the_tier(hotel, member, programme):
    stay(hotel=hotel, member=member, nights=10, total="100.00")
    _at(member, programme["gold"], months_later(date.today(), -24))

    assert tiers_review(actor=SYSTEM) == {"up": 0, "down": 0, "kept": 1}
    assert refreshed(member).tier.key == "gold"


def test_the_nightly_review_upgrades_members_a_tier_change_made_eligible(hotel, member, programme):
    from crm.loyalty.services.programme import tier_update

    stay(hotel=hotel, member=member, nights=8, total="100.00")
    assert refreshed(member).tier.key == "silver"
    tier_update(tier=programme["gold"], min_nights=8, actor=SYSTEM)

    assert tiers_review(actor=SYSTEM)["up"] == 1
    assert refreshed(member).tier.key == "gold"


def test_only_administrators_run_the_review(member, make_user):
    from tenants.access.errors import AccessDenied

    clerk = make_user("front_office")
    with pytest.raises(AccessDenied):
        tiers_review(actor=Principal.of(clerk))


def test_tier_names_are_translated(programme):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(programme["gold"].name) == "金卡"
    assert programme["gold"].name_en == "Gold"
    assert Decimal(programme["gold"].earn_multiplier) == Decimal("1.5")


def test_the_review_reads_a_batch_in_a_bounded_number_of_queries(programme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.loyalty.services.members import member_enrol
    from tests.crm.factories import make_guest

    def review_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            outcome = tiers_review(actor=SYSTEM)
        assert outcome["up"] == outcome["down"] == 0
        return len(queries)

    for _ in range(5):
        member_enrol(guest=make_guest(), actor=SYSTEM)
    few = review_queries()
    for _ in range(25):
        member_enrol(guest=make_guest(), actor=SYSTEM)
    assert review_queries() == few <= 8


def test_counters_of_members_who_keep_their_tier_are_refreshed(hotel, member):
    stay(hotel=hotel, member=member, nights=10, total="100.00")
    assert (refreshed(member).tier.key, refreshed(member).qualifying_nights) == ("gold", 10)
    a_year_on = months_later(date.today(), 13)

    assert tiers_review(actor=SYSTEM, on=a_year_on)["down"] == 1  # held a year: one step
    member = refreshed(member)
    assert (member.tier.key, member.qualifying_nights, member.qualifying_stays) == ("silver", 0, 0)

    Member.objects.filter(pk=member.pk).update(qualifying_nights=99)
    assert tiers_review(actor=SYSTEM, on=a_year_on) == {"up": 0, "down": 0, "kept": 1}
    assert refreshed(member).qualifying_nights == 0
