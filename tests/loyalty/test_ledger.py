"""The ledger's buckets: spent first-in first-out (earliest expiry first), expired by the
nightly run bucket by bucket, never spendable once due; the balance always equals the
sum of the entries and of the open buckets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.loyalty.models import LedgerEntry
from crm.loyalty.services.ledger import (
    InsufficientPoints,
    balance_recount,
    credit,
    expiry_run,
    member_lock,
    months_later,
)
from crm.loyalty.services.redemptions import redemption_reserve, reward_create
from crm.loyalty.tasks import loyalty_nightly
from tests.loyalty.conftest import refreshed
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _bucket(member, points: int, expires_on: date | None) -> LedgerEntry:
    return credit(
        member=member_lock(member.pk),
        kind="adjust",
        source="staff",
        points=points,
        actor=SYSTEM,
        expires_on=expires_on,
        reason="test bucket",
    )


def _consistent(member) -> int:
    member = refreshed(member)
    assert balance_recount(member) == (member.balance, member.balance)
    return member.balance


def test_fifo_spending_and_expiry_across_buckets(member):
    today = date.today()
    later = _bucket(member, 50, today + timedelta(days=60))
    never = _bucket(member, 80, None)
    soon = _bucket(member, 100, today + timedelta(days=30))
    reward = reward_create(
        key="suite", name="Suite upgrade", kind="upgrade", points=120, actor=SYSTEM
    )

    redemption_reserve(member=member, reward=reward, actor=SYSTEM)

    # 120 points: the bucket expiring first (100), then the next one (20 of 50).
    remaining = dict(
        LedgerEntry.objects.filter(pk__in=[soon.pk, later.pk, never.pk]).values_list(
            "pk", "remaining"
        )
    )
    assert remaining == {soon.pk: 0, later.pk: 30, never.pk: 80}
    redeem = LedgerEntry.objects.get(member=member, kind="redeem")
    assert redeem.points == -120
    assert [t[:2] for t in redeem.details["taken"]] == [[soon.pk, 100], [later.pk, 20]]
    assert _consistent(member) == 110

    # Nothing is due yet; then the day after the second bucket's date, only its rest.
    assert expiry_run(actor=SYSTEM, on=today + timedelta(days=59)) == 0
    assert expiry_run(actor=SYSTEM, on=today + timedelta(days=61)) == 1
    [expired] = LedgerEntry.objects.filter(member=member, kind="expire")
    assert (expired.points, expired.details["bucket"]) == (-30, later.pk)
    assert _consistent(member) == 80
    # Run twice: nothing more (the emptied bucket and the spent one are not due again).
    assert expiry_run(actor=SYSTEM, on=today + timedelta(days=61)) == 0
    assert _consistent(member) == 80


def test_points_past_their_date_cannot_be_spent_before_the_nightly_run(member):
    _bucket(member, 100, date.today() - timedelta(days=1))
    _bucket(member, 30, None)
    reward = reward_create(
        key="drink", name="Welcome drink", kind="fnb_credit", points=50, actor=SYSTEM
    )

    with pytest.raises(InsufficientPoints) as refused:
        redemption_reserve(member=member, reward=reward, actor=SYSTEM)

    assert refused.value.code == "insufficient_points" and refused.value.status_code == 409
    assert "has 30 points" in refused.value.message
    # The refusal rolled back everything it did (the expiry included): still due.
    assert refreshed(member).balance == 130
    assert expiry_run(actor=SYSTEM) == 1
    assert _consistent(member) == 30


def test_earned_points_expire_after_the_programme_months(hotel, member):
    from tests.loyalty.conftest import stay

    stay(hotel=hotel, member=member, total="90.00")
    due = months_later(date.today(), 24)
    assert LedgerEntry.objects.get(member=member).expires_on == due

    assert expiry_run(actor=SYSTEM, on=due - timedelta(days=1)) == 0
    assert expiry_run(actor=SYSTEM, on=due) == 1
    member = refreshed(member)
    assert (member.balance, member.lifetime_points) == (0, 90)  # lifetime keeps them


def test_the_nightly_task_takes_a_schema_name_and_is_safe_to_repeat(member, programme):
    _bucket(member, 40, date.today() - timedelta(days=1))
    tenant = programme["tenant"]

    first = loyalty_nightly.run(tenant.schema_name)
    second = loyalty_nightly.run(tenant.schema_name)

    assert first["expired"] == 1 and second["expired"] == 0
    assert first["kept"] == second["kept"] == 1
    assert loyalty_nightly.run("no_such_schema") == {"skipped": "no such tenant"}
    assert _consistent(member) == 0


def test_the_database_keeps_the_ledger_append_only(member):
    from django.db import DatabaseError, transaction

    bucket = _bucket(member, 100, None)
    for change in (
        lambda: LedgerEntry.objects.filter(pk=bucket.pk).update(points=1_000_000),
        lambda: LedgerEntry.objects.filter(pk=bucket.pk).update(reason="rewritten"),
        lambda: LedgerEntry.objects.filter(pk=bucket.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="loyalty ledger entries"), transaction.atomic():
            change()
    # What is left of a bucket is the one thing that moves.
    assert LedgerEntry.objects.filter(pk=bucket.pk).update(remaining=40) == 1
    bucket.refresh_from_db()
    assert (bucket.points, bucket.remaining, bucket.reason) == (100, 40, "test bucket")
