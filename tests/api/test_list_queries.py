"""Lists read only what they return: sparse fieldsets, counts only when asked, no
DISTINCT (hotel scope is an EXISTS), a bounded number of queries whatever the page."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tests.access.test_attacks import key_client, member
from tests.api.test_records_api import api
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def guests(tenant_a):
    from metadata.services.definitions import custom_field_create

    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="points", label="Points", type="integer",
            actor=SYSTEM,
        )  # fmt: skip
        hotel, other = make_property(code="LQ1"), make_property(code="LQ2")
        made = [make_guest(surname=f"Q{i}", custom={"points": i}) for i in range(30)]
        for guest in made[:5]:
            make_reservation(property=hotel, guest=guest)
            make_reservation(property=hotel, guest=guest)  # two stays: a join would double
        for guest in made[5:]:
            make_reservation(property=other, guest=guest)
    return hotel, made


def test_sparse_fieldsets_return_only_what_is_asked(tenant_a, guests):
    client = api(tenant_a)
    body = client.get("/api/v1/guests/?fields=surname,custom.points&ordering=surname").json()
    first = body["results"][0]
    assert set(first) == {"id", "surname", "custom"} and set(first["custom"]) == {"points"}
    assert "total" not in body
    refused = client.get("/api/v1/guests/?fields=nope")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "fields"


def test_a_hidden_field_cannot_be_asked_for(tenant_a, guests):
    desk = member(tenant_a, "lq-desk@alpha.test", "front_office")
    client = key_client(tenant_a, desk, "*")
    refused = client.get("/api/v1/guests/?fields=surname,birth_date")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "birth_date"


def test_the_total_is_counted_only_when_asked(tenant_a, guests):
    client = api(tenant_a)
    body = client.get("/api/v1/guests/?include=total&limit=5&surname__contains=Q").json()
    assert body["total"] == 30 and len(body["results"]) == 5
    assert client.get("/api/v1/guests/?include=everything").status_code == 400


def test_the_guest_list_query_has_no_distinct(tenant_a, guests):
    hotel, _made = guests
    scoped = member(tenant_a, "lq-scoped@alpha.test", "front_office", hotels=[hotel.pk])
    for client, expected in ((api(tenant_a), 30), (key_client(tenant_a, scoped, "*"), 5)):
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/v1/guests/?limit=100").json()
        assert len(body["results"]) == expected
        listing = [q["sql"] for q in queries.captured_queries if "crm_guest" in q["sql"]]
        assert listing and not any("DISTINCT" in sql.upper() for sql in listing), listing


def test_list_queries_do_not_grow_with_the_page(tenant_a, guests):
    client = api(tenant_a)
    client.get("/api/v1/guests/?limit=1")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/guests/?limit=1")
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/guests/?limit=100")
    assert len(many.captured_queries) == len(one.captured_queries) <= 6


def test_birth_dates_of_a_list_are_audited_only_when_present(tenant_a):
    from tenants.access.models import AuditEvent

    with tenant_context(tenant_a):
        make_guest(surname="NoBirthday")
    client = api(tenant_a)
    client.get("/api/v1/guests/?surname=NoBirthday")
    with tenant_context(tenant_a):
        assert not AuditEvent.objects.filter(action="sensitive_read").exists()
        make_guest(surname="Birthday", birth_date=date(1980, 1, 2))
    client.get("/api/v1/guests/?surname=Birthday")
    with tenant_context(tenant_a):
        event = AuditEvent.objects.get(action="sensitive_read")
        assert event.fields == ["birth_date"] and event.record_count == 1
