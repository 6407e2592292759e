"""crm deletes a guest merged into another and knows nothing of loyalty: the membership
follows the surviving profile through the guest.merged event, and two memberships become
one with nothing lost."""

from __future__ import annotations

import pytest

from crm.loyalty.models import LedgerEntry, Member
from crm.loyalty.services.ledger import balance_recount, points_adjust
from crm.loyalty.services.members import member_enrol
from crm.services.dedupe import guest_merge
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_guest
from tests.loyalty.conftest import refreshed, stay
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _check_constraints() -> None:
    """What the commit would check: every membership points at an existing guest."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_membership_follows_the_surviving_guest(member, hotel):
    stay(hotel=hotel, member=member, total="80.00")
    survivor = make_guest(surname="Survivor")

    guest_merge(survivor=survivor, duplicate=member.guest, actor=SYSTEM)

    _check_constraints()
    moved = refreshed(member)
    assert moved.guest_id == survivor.pk and moved.balance == 80


def test_two_memberships_become_one(member, hotel, programme):
    other = member_enrol(guest=make_guest(surname="Twin"), actor=SYSTEM)
    points_adjust(member=other, points=500, reason="twin", actor=SYSTEM)
    stay(hotel=hotel, member=member, total="80.00")
    Member.objects.filter(pk=other.pk).update(tier=programme["gold"])
    # Merging works with the module switched off too.
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)

    guest_merge(survivor=member.guest, duplicate=other.guest, actor=SYSTEM)

    _check_constraints()
    assert not Member.objects.filter(pk=other.pk).exists()
    kept = refreshed(member)
    assert (kept.balance, kept.lifetime_points, kept.tier.key) == (580, 580, "gold")
    assert LedgerEntry.objects.filter(member=kept).count() == 2
    assert balance_recount(kept) == (580, 580)
