"""List screens run a bounded number of queries whatever the page holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tests.conftest import tenant_client
from tests.crm.factories import make_guest, make_property, make_reservation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/guests/", "/reservations/", "/companies/", "/"])
def test_list_screens_do_not_query_per_row(tenant_a, path):
    client = tenant_client(tenant_a)

    def queries() -> int:
        client.get(path)  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        return len(captured.captured_queries)

    with tenant_context(tenant_a):
        hotel = make_property(code="QC1")
        from crm.services.companies import company_create
        from tests.principals import SYSTEM

        for i in range(2):
            make_reservation(property=hotel, guest=make_guest(surname=f"Few{i}"))
            company_create(name=f"Few {i}", actor=SYSTEM)
    few = queries()
    with tenant_context(tenant_a):
        for i in range(30):
            make_reservation(property=hotel, guest=make_guest(surname=f"Many{i}"))
            company_create(name=f"Many {i}", actor=SYSTEM)
    many = queries()
    assert many == few, (path, few, many)
