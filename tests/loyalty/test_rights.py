"""Who may do what: front office views members and the ledger and redeems, but cannot
adjust points; administrators adjust (with a reason, audited); rewards are marketing's;
the module switch closes every door."""

from __future__ import annotations

import pytest

from crm.loyalty.models import LedgerEntry
from crm.loyalty.selectors import ledger_list, members_list, redemptions_list
from crm.loyalty.services.ledger import points_adjust
from crm.loyalty.services.members import member_enrol
from crm.loyalty.services.redemptions import (
    redemption_cancel,
    redemption_confirm,
    redemption_reserve,
    reward_create,
)
from crm.models import RecordChange
from metadata.services.modules import ModuleDisabled, module_set_enabled
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tests.crm.factories import make_guest
from tests.loyalty.conftest import refreshed
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(member):
    points_adjust(member=member, points=1000, reason="opening balance", actor=SYSTEM)
    return refreshed(member)


@pytest.fixture
def reward(programme):
    return reward_create(key="late-checkout", name="Late checkout", points=200, actor=SYSTEM)


def test_front_office_views_and_redeems(funded, reward, make_user):
    desk = Principal.of(make_user("front_office"))

    assert list(members_list(actor=desk)) == [funded]
    assert ledger_list(actor=desk, member_id=funded.pk).count() == 1
    redemption = redemption_reserve(member=funded, reward=reward, actor=desk)
    assert redemption_confirm(redemption=redemption, actor=desk).status == "confirmed"
    other = redemption_reserve(member=funded, reward=reward, actor=desk)
    assert redemption_cancel(redemption=other, actor=desk).status == "cancelled"
    assert redemptions_list(actor=desk).count() == 2
    assert refreshed(funded).balance == 800
    assert LedgerEntry.objects.get(redemption=redemption).actor_user_id == desk.user_id


def test_front_office_enrols_but_cannot_adjust_points_or_change_rewards(funded, make_user):
    desk = Principal.of(make_user("front_office"))
    # The desk is where guests join (loyalty migration 0004); a read-only user cannot.
    assert member_enrol(guest=make_guest(), actor=desk).number
    with pytest.raises(AccessDenied):
        member_enrol(guest=make_guest(), actor=Principal.of(make_user("read_only")))

    with pytest.raises(AccessDenied) as refused:
        points_adjust(member=funded, points=50, reason="goodwill", actor=desk)
    assert refused.value.code == "permission_denied"
    assert "loyalty_ledger" in refused.value.message or "ledger" in refused.value.message
    with pytest.raises(AccessDenied):
        reward_create(key="x", name="X", points=1, actor=desk)
    assert refreshed(funded).balance == 1000
    assert LedgerEntry.objects.filter(member=funded).count() == 1


def test_an_administrator_adjusts_with_a_reason_and_it_is_audited(funded, make_user):
    admin = Principal.of(make_user("tenant_admin"))

    entry = points_adjust(member=funded, points=-150, reason="duplicate stay", actor=admin)

    assert (entry.kind, entry.source, entry.points, entry.reason) == (
        "adjust",
        "staff",
        -150,
        "duplicate stay",
    )
    assert entry.actor_user_id == admin.user_id
    audit = RecordChange.objects.get(
        object_api_name="loyalty_account", record_id=str(funded.pk), user_id=admin.user_id
    )
    assert (audit.action, audit.field, audit.old) == ("update", "balance", 1000)
    assert audit.new == {
        "balance": 850,
        "points": -150,
        "reason": "duplicate stay",
        "entry": entry.pk,
    }
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as missing:
        points_adjust(member=funded, points=10, reason="  ", actor=admin)
    assert "reason" in missing.value.message_dict


def test_other_seeded_roles(funded, reward, make_user):
    marketing = Principal.of(make_user("marketing"))
    assert reward_create(key="spa-credit", name="Spa", points=300, actor=marketing).points == 300
    with pytest.raises(AccessDenied):
        redemption_reserve(member=funded, reward=reward, actor=marketing)
    with pytest.raises(AccessDenied):
        points_adjust(member=funded, points=5, reason="x", actor=marketing)
    sales = Principal.of(make_user("sales"))
    with pytest.raises(AccessDenied):
        members_list(actor=sales)
    reader = Principal.of(make_user("read_only"))
    assert ledger_list(actor=reader).count() == 1
    with pytest.raises(AccessDenied):
        redemption_reserve(member=funded, reward=reward, actor=reader)


def test_api_key_scopes_narrow_the_rights(funded, reward, make_user):
    admin = make_user("tenant_admin")
    with pytest.raises(AccessDenied):
        points_adjust(
            member=funded, points=5, reason="x", actor=Principal.of(admin, scopes=["loyalty:read"])
        )
    assert points_adjust(
        member=funded, points=5, reason="x", actor=Principal.of(admin, scopes=["loyalty:write"])
    )


def test_switching_the_module_off_closes_the_doors_and_keeps_the_data(funded, reward, make_user):
    desk = Principal.of(make_user("front_office"))
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)

    with pytest.raises(ModuleDisabled) as off:
        redemption_reserve(member=funded, reward=reward, actor=desk)
    assert (off.value.code, off.value.status_code) == ("module_disabled", 403)
    with pytest.raises(ModuleDisabled):
        members_list(actor=desk)
    assert refreshed(funded).balance == 1000
