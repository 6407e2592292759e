"""Set-based upserts of guests and companies: the same rules as single writes, a
bounded number of queries whatever the batch size, safe to re-send, and concurrent
senders of the same external id all succeed (the losers of the race update)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from crm.models import Company, Guest, GuestEmail, GuestExternalId, RecordChange
from crm.services.upsert import companies_upsert, guests_upsert
from tenants.access.principal import Principal
from tests.access.conftest import alpha, make_user  # noqa: F401  (fixtures)
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _guests(n: int, prefix: str = "G") -> list[dict]:
    return [
        {
            "external_id": f"{prefix}{i}",
            "given_name": "Ana",
            "surname": f"Lima{i}",
            "emails": [f"{prefix.lower()}{i}@example.com"],
            "phones": ["+351912345678"],
            "vip_level": i % 3,
            "birth_date": "1980-05-01",
        }
        for i in range(n)
    ]


def test_query_count_is_bounded_whatever_the_batch(alpha):  # noqa: F811
    with CaptureQueriesContext(connection) as small:
        guests_upsert(actor=SYSTEM, items=_guests(10, "S"))
    with CaptureQueriesContext(connection) as large:
        results = guests_upsert(actor=SYSTEM, items=_guests(1000, "L"))
    assert {r["status"] for r in results} == {"created"}
    assert len(large.captured_queries) <= len(small.captured_queries) + 10, (
        len(small.captured_queries),
        len(large.captured_queries),
    )
    assert len(large.captured_queries) < 60
    assert Guest.objects.filter(surname__startswith="Lima").count() == 1010
    assert GuestEmail.objects.filter(email="l999@example.com", is_primary=True).exists()
    created = RecordChange.objects.filter(action="create", object_api_name="guest")
    assert created.values("record_id").distinct().count() == 1010


def test_the_same_batch_sent_twice_updates_and_changes_nothing(alpha):  # noqa: F811
    batch = _guests(20, "T")
    first = guests_upsert(actor=SYSTEM, items=batch)
    changes = RecordChange.objects.count()
    second = guests_upsert(actor=SYSTEM, items=batch)
    assert [r["status"] for r in first] == ["created"] * 20
    assert [r["status"] for r in second] == ["updated"] * 20
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert RecordChange.objects.count() == changes  # nothing changed, nothing audited
    assert GuestEmail.objects.filter(guest_id=first[0]["id"]).count() == 1


def test_a_bad_record_fails_alone_and_nothing_of_it_is_stored(alpha):  # noqa: F811
    batch = _guests(3, "B")
    batch[1]["birth_date"] = "not a date"
    batch[2]["emails"] = ["not-an-address"]
    results = guests_upsert(actor=SYSTEM, items=batch)
    assert [r["status"] for r in results] == ["created", "error", "error"]
    assert results[1]["errors"][0]["field"] == "birth_date"
    assert results[2]["errors"][0]["field"] == "emails"
    assert not GuestExternalId.objects.filter(external_id__in=["B1", "B2"]).exists()


def test_rights_are_asked_per_record(alpha, make_user):  # noqa: F811
    desk = Principal.of(make_user("front_office"))
    results = guests_upsert(
        actor=desk,
        items=[
            {"external_id": "R1", "surname": "Fine"},
            {
                "external_id": "R2",
                "surname": "Secret",
                "id_document_type": "passport",
                "id_document_number": "K1",
            },
        ],  # fmt: skip
    )
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "error"
    assert results[1]["errors"][0]["code"] == "permission_denied"
    reader = Principal.of(make_user("read_only"))
    from tenants.access.errors import AccessDenied

    with pytest.raises(AccessDenied):
        guests_upsert(actor=reader, items=[{"external_id": "R3", "surname": "No"}])


def test_companies_upsert_by_external_id(alpha):  # noqa: F811
    first = companies_upsert(
        actor=SYSTEM, items=[{"external_id": "C1", "name": "Acme"}, {"external_id": "C2"}]
    )
    assert [r["status"] for r in first] == ["created", "error"]
    again = companies_upsert(actor=SYSTEM, items=[{"external_id": "C1", "name": "Acme Travel"}])
    assert again[0]["status"] == "updated"
    assert Company.objects.get(external_id="C1").name == "Acme Travel"


def test_concurrent_upserts_of_one_external_id_all_succeed(tenant_a):
    """Four senders at once with the same new external id: one creates it, the other
    three update the same guest -- no server error, no "external id taken"."""
    barrier = threading.Barrier(4)

    def send(n: int) -> list[dict]:
        try:
            with tenant_context(tenant_a):
                barrier.wait(timeout=10)
                return guests_upsert(
                    actor=Principal.system("race"),
                    items=[{"external_id": "RACE-1", "surname": f"Runner{n}"}],
                )
        finally:
            connection.close()

    def cleanup() -> None:
        try:
            with tenant_context(tenant_a):
                ids = list(
                    GuestExternalId.objects.filter(external_id="RACE-1").values_list(
                        "guest_id", flat=True
                    )
                )
                RecordChange.objects.filter(
                    object_api_name="guest", record_id__in=[str(i) for i in ids]
                ).delete()
                Guest.objects.filter(pk__in=ids).delete()
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(4) as pool:
            results = [r[0] for r in pool.map(send, range(4))]
        statuses = sorted(r["status"] for r in results)
        assert statuses == ["created", "updated", "updated", "updated"], results
        assert len({r["id"] for r in results}) == 1
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(cleanup).result()
