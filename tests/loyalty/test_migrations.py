"""The module's migrations go back and forth on a tenant schema that holds data (crm
rows and loyalty rows alike): forward only adds tables, a sequence, the programme row
and the seeded roles' rights; backward removes exactly that."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tenants.access.models import ObjectPermission

pytestmark = pytest.mark.django_db


def _migrate(target: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name LIKE 'loyalty_%%'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_back_to_zero_and_forward_again(member, hotel):
    from tests.loyalty.conftest import stay

    stay(hotel=hotel, member=member)
    seeded = set(
        ObjectPermission.objects.filter(target__startswith="loyalty_").values_list(
            "role__key", "target"
        )
    )
    assert ("front_office", "loyalty_redemption") in seeded
    # The member rows have to go first: going back drops the tables with what is in them.
    with connection.cursor() as cursor:
        # Checks deferred to the commit run now, or no table of them could be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL loyalty.ledger_purge = 'on'")
        for table in ("loyalty_ledgerentry", "loyalty_redemption", "loyalty_member"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names

    _migrate([("loyalty", None)])

    assert _tables() == set()
    left = set(
        ObjectPermission.objects.filter(target__startswith="loyalty_").values_list(
            "role__key", "target"
        )
    )
    # Only the rows the seeded roles had before the module (access 0002) remain.
    assert {t for _, t in left} == {"loyalty_account"}
    from crm.models import Guest

    assert Guest.objects.filter(pk=member.guest_id).exists()

    _migrate([("loyalty", "0003_ledger_append_only")])

    assert {"loyalty_member", "loyalty_ledgerentry", "loyalty_programme"} <= _tables()
    assert (
        set(
            ObjectPermission.objects.filter(target__startswith="loyalty_").values_list(
                "role__key", "target"
            )
        )
        == seeded
    )
    from crm.loyalty.numbers import member_number_next, member_number_valid

    assert member_number_valid(member_number_next())
