"""rows_update: many rows, each with its own values, in one UPDATE."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Guest
from crm.services.bulk import rows_update
from tests.crm.factories import make_guest

pytestmark = pytest.mark.django_db


def test_each_row_takes_its_own_values_in_one_statement(tenant_a):
    from django_tenants.utils import tenant_context

    with tenant_context(tenant_a):
        guests = [make_guest(surname=f"Row{i}") for i in range(5)]
        untouched = make_guest(surname="Untouched", vip_level=2)
        for n, guest in enumerate(guests):
            guest.vip_level = n
            guest.surname = f"Now{n}"
            guest.nationality = "" if n % 2 else "FR"
        with CaptureQueriesContext(connection) as queries:
            changed = rows_update(Guest, guests, ["vip_level", "surname", "nationality"])

        assert changed == 5 and len(queries) == 1
        stored = {g.pk: g for g in Guest.objects.filter(pk__in=[g.pk for g in guests])}
        for n, guest in enumerate(guests):
            row = stored[guest.pk]
            assert (row.vip_level, row.surname, row.nationality) == (
                n,
                f"Now{n}",
                "" if n % 2 else "FR",
            )
        again = Guest.objects.get(pk=untouched.pk)
        assert (again.surname, again.vip_level) == ("Untouched", 2)
        assert rows_update(Guest, [], ["vip_level"]) == 0


def test_decimals_keep_their_scale_foreign_keys_move_and_json_is_refused(tenant_a):
    from django_tenants.utils import tenant_context

    from crm.loyalty.models import Member
    from crm.loyalty.services.members import member_enrol
    from tests.loyalty.conftest import programme_setup
    from tests.principals import SYSTEM

    with tenant_context(tenant_a):
        silver, gold = programme_setup()
        one, two = (member_enrol(guest=make_guest(surname=f"D{n}"), actor=SYSTEM) for n in (1, 2))
        one.qualifying_revenue, one.tier = Decimal("1234.56"), gold
        two.qualifying_revenue, two.tier = Decimal("0.50"), None
        assert rows_update(Member, [one, two], ["qualifying_revenue", "tier"]) == 2
        stored = {m.pk: m for m in Member.objects.filter(pk__in=[one.pk, two.pk])}
        assert (stored[one.pk].qualifying_revenue, stored[one.pk].tier_id) == (
            Decimal("1234.56"),
            gold.pk,
        )
        assert (stored[two.pk].qualifying_revenue, stored[two.pk].tier_id) == (
            Decimal("0.50"),
            None,
        )
        with pytest.raises(ValueError, match="custom"):
            rows_update(Guest, [make_guest(surname="J")], ["custom"])
