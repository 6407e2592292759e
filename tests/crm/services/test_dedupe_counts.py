"""duplicates_find counts the suggestions it inserted from RETURNING rows, not from
``cursor.rowcount``, which Citus reports as the rows an INSERT ... SELECT selected,
conflicting ones included (citusdata/citus#3377)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from crm.models import DuplicateSuggestion
from crm.services.dedupe import duplicates_find
from tests.crm.factories import make_guest

pytestmark = pytest.mark.django_db


def test_an_insert_select_with_conflicts_reports_only_the_rows_it_inserted(tenant_a):
    with tenant_context(tenant_a):
        a = make_guest(emails=["twin@example.com"])
        b = make_guest(emails=["TWIN@example.com"])
        c = make_guest(phones=["+44 20 7946 0000"])
        d = make_guest(phones=["+442079460000"])
        e = make_guest(emails=["third@example.com"])
        f = make_guest(emails=["third@example.com"])
        # Two of the three exact pairs are already known: one open, one dismissed.
        DuplicateSuggestion.objects.create(guest_a=a, guest_b=b, rule="email", score=1)
        DuplicateSuggestion.objects.create(
            guest_a=c, guest_b=d, rule="phone", score=1, status="dismissed"
        )

        with CaptureQueriesContext(connection) as queries:
            created = duplicates_find()

        assert created == 1
        assert set(DuplicateSuggestion.objects.values_list("guest_a", "guest_b", "rule")) == {
            (a.pk, b.pk, "email"),
            (c.pk, d.pk, "phone"),
            (e.pk, f.pk, "email"),
        }
        inserts = [q["sql"] for q in queries if "INSERT INTO crm_duplicatesuggestion" in q["sql"]]
        assert len(inserts) == 1 and "SELECT DISTINCT" in inserts[0]
        assert all(sql.rstrip().endswith("RETURNING 1") for sql in inserts)


def test_the_name_rule_counts_its_new_rows_the_same_way(tenant_a):
    with tenant_context(tenant_a):
        born = date(1985, 5, 5)
        a = make_guest(given_name="Katherine", surname="Moreau", birth_date=born)
        b = make_guest(given_name="Katharine", surname="Moreau", birth_date=born)

        with CaptureQueriesContext(connection) as queries:
            assert duplicates_find() == 1
        assert duplicates_find() == 0

        inserts = [q["sql"] for q in queries if "INSERT INTO crm_duplicatesuggestion" in q["sql"]]
        assert len(inserts) == 2 and all(sql.rstrip().endswith("RETURNING 1") for sql in inserts)
        assert DuplicateSuggestion.objects.get().guest_a_id == a.pk
        assert DuplicateSuggestion.objects.get().guest_b_id == b.pk
