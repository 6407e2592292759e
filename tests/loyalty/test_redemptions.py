"""Redemption: reserve (points leave at once) -> confirm, or cancel (points come back);
never below zero, however many desks redeem against one balance at the same time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from crm.loyalty.models import LedgerEntry, Member, Redemption, Reward
from crm.loyalty.services.ledger import InsufficientPoints, balance_recount, points_adjust
from crm.loyalty.services.members import member_enrol
from crm.loyalty.services.redemptions import (
    RedemptionState,
    RewardUnavailable,
    redemption_cancel,
    redemption_confirm,
    redemption_reserve,
    reward_create,
)
from crm.models import Guest, RecordChange
from tenants.access.principal import Principal
from tests.crm.factories import make_guest, make_property
from tests.loyalty.conftest import refreshed
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def night(programme) -> Reward:
    return reward_create(
        key="free-night", name="Free night", kind="free_night", points=500, actor=SYSTEM
    )


def _funded(member: Member, points: int) -> Member:
    points_adjust(member=member, points=points, reason="welcome gift", actor=SYSTEM)
    return refreshed(member)


def test_reserve_then_confirm(member, night):
    _funded(member, 800)

    redemption = redemption_reserve(member=member, reward=night, actor=SYSTEM, note="June")

    assert (redemption.status, redemption.points) == ("reserved", 500)
    assert refreshed(member).balance == 300
    entry = LedgerEntry.objects.get(redemption=redemption)
    assert (entry.kind, entry.source, entry.points) == ("redeem", "redemption", -500)

    confirmed = redemption_confirm(redemption=redemption, actor=SYSTEM)

    assert confirmed.status == "confirmed" and confirmed.confirmed_at is not None
    assert refreshed(member).balance == 300  # confirming moves no points
    with pytest.raises(RedemptionState) as refused:
        redemption_cancel(redemption=confirmed, actor=SYSTEM)
    assert refused.value.code == "redemption_status"
    assert refreshed(member).balance == 300


def test_cancel_gives_the_points_back_once(member, night):
    _funded(member, 500)
    redemption = redemption_reserve(member=member, reward=night, actor=SYSTEM)
    assert refreshed(member).balance == 0

    cancelled = redemption_cancel(redemption=redemption, actor=SYSTEM, reason="plans changed")

    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    back = LedgerEntry.objects.get(redemption=redemption, kind="reverse")
    spent = LedgerEntry.objects.get(redemption=redemption, kind="redeem")
    assert (back.points, back.remaining, back.reverses_id) == (500, 500, spent.pk)
    # Back into a bucket expiring when the spent one would have (not a fresh 24 months).
    welcome = LedgerEntry.objects.get(member=member, kind="adjust")
    assert back.expires_on == welcome.expires_on and back.reason == "plans changed"
    member = refreshed(member)
    assert (member.balance, member.lifetime_points) == (500, 500)
    assert balance_recount(member) == (500, 500)
    with pytest.raises(RedemptionState):
        redemption_cancel(redemption=cancelled, actor=SYSTEM)
    with pytest.raises(RedemptionState):
        redemption_confirm(redemption=cancelled, actor=SYSTEM)
    assert refreshed(member).balance == 500
    statuses = RecordChange.objects.filter(
        object_api_name="loyalty_redemption", record_id=str(redemption.pk), field="status"
    )
    assert [s.new for s in statuses] == ["cancelled"]


def test_not_enough_points_is_refused_and_writes_nothing(member, night):
    _funded(member, 499)

    with pytest.raises(InsufficientPoints) as refused:
        redemption_reserve(member=member, reward=night, actor=SYSTEM)

    assert refused.value.code == "insufficient_points" and refused.value.field == "points"
    assert not Redemption.objects.exists()
    assert refreshed(member).balance == 499


def test_rewards_outside_their_dates_or_hotels_are_refused(member):
    _funded(member, 1000)
    here, there = make_property(code="LOYH1"), make_property(code="LOYH2")
    past = reward_create(
        key="old-offer",
        name="Old offer",
        points=10,
        available_until=date.today() - timedelta(days=1),
        actor=SYSTEM,
    )
    local = reward_create(key="spa", name="Spa", points=10, property_ids=[here.pk], actor=SYSTEM)

    with pytest.raises(RewardUnavailable):
        redemption_reserve(member=member, reward=past, actor=SYSTEM)
    with pytest.raises(RewardUnavailable) as elsewhere:
        redemption_reserve(member=member, reward=local, actor=SYSTEM, property_id=there.pk)
    assert elsewhere.value.field == "property_id"
    assert redemption_reserve(member=member, reward=local, actor=SYSTEM, property_id=here.pk)
    assert refreshed(member).balance == 990


def test_twenty_desks_redeeming_at_once_never_overdraw(tenant_a):
    """20 threads, each with its own database connection, reserve a 70-point reward
    against one balance of 1,000 at the same moment: exactly 14 succeed, the others are
    refused with insufficient_points, and balance = ledger sum = open buckets = 20."""
    threads = 20
    barrier = threading.Barrier(threads)
    actor = Principal.system("race")

    def setup() -> tuple[int, int]:
        try:
            with tenant_context(tenant_a):
                member = member_enrol(guest=make_guest(surname="Racer"), actor=actor)
                points_adjust(member=member, points=1000, reason="race", actor=actor)
                reward = reward_create(key="race-prize", name="Prize", points=70, actor=actor)
                return member.pk, reward.pk
        finally:
            connection.close()

    def redeem(member_id: int, reward_id: int) -> str:
        try:
            with tenant_context(tenant_a):
                member = Member.objects.get(pk=member_id)
                reward = Reward.objects.get(pk=reward_id)
                barrier.wait(timeout=30)
                try:
                    redemption_reserve(member=member, reward=reward, actor=actor)
                except InsufficientPoints as exc:
                    return exc.code
                return "reserved"
        finally:
            connection.close()

    def read(member_id: int) -> tuple:
        try:
            with tenant_context(tenant_a):
                member = Member.objects.get(pk=member_id)
                entries = LedgerEntry.objects.filter(member=member)
                return (
                    member.balance,
                    balance_recount(member),
                    entries.filter(kind="redeem").count(),
                    Redemption.objects.filter(member=member).count(),
                    min(e.remaining for e in entries),
                )
        finally:
            connection.close()

    def cleanup(member_id: int, reward_id: int) -> None:
        try:
            with tenant_context(tenant_a):
                guest_id = Member.objects.get(pk=member_id).guest_id
                with transaction.atomic(), connection.cursor() as cursor:
                    # The ledger refuses deletes unless purged on purpose.
                    cursor.execute("SET LOCAL loyalty.ledger_purge = 'on'")
                    cursor.execute(
                        "DELETE FROM loyalty_ledgerentry WHERE member_id = %s", [member_id]
                    )
                    Redemption.objects.filter(member_id=member_id).delete()
                    Member.objects.filter(pk=member_id).delete()
                    Reward.objects.filter(pk=reward_id).delete()
                    RecordChange.objects.filter(
                        object_api_name__in=["loyalty_account", "loyalty_reward", "guest"],
                        record_id__in=[str(member_id), str(reward_id), str(guest_id)],
                    ).delete()
                    Guest.objects.filter(pk=guest_id).delete()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        member_id, reward_id = pool.submit(setup).result()
    try:
        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(lambda _: redeem(member_id, reward_id), range(threads)))
        assert sorted(outcomes).count("reserved") == 14, outcomes
        assert sorted(outcomes).count("insufficient_points") == 6, outcomes
        with ThreadPoolExecutor(1) as pool:
            balance, recount, redeemed, redemptions, lowest = pool.submit(read, member_id).result()
        assert balance == 20 and recount == (20, 20)
        assert redeemed == redemptions == 14
        assert lowest >= 0
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(cleanup, member_id, reward_id).result()
