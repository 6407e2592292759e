"""Duplicate suggestions, merge into a survivor, and undo restoring the exact state."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core import serializers
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import (
    Activity,
    CompanyContact,
    DuplicateSuggestion,
    Guest,
    GuestAddress,
    GuestConsent,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    GuestPreference,
    MergeLog,
    Reservation,
    ReservationGuest,
)
from crm.services.activities import activity_create
from crm.services.companies import company_contact_add, company_create
from crm.services.dedupe import (
    duplicate_dismiss,
    duplicates_find,
    guest_merge,
    guest_merge_undo,
    name_similarity,
)
from crm.services.guests import (
    guest_address_add,
    guest_consent_record,
    guest_external_id_add,
    guest_preference_set,
)
from tenants.errors import Conflict
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
TABLES = (
    Guest,
    GuestEmail,
    GuestPhone,
    GuestAddress,
    GuestPreference,
    GuestConsent,
    GuestExternalId,
    CompanyContact,
    Reservation,
    ReservationGuest,
    Activity,
    DuplicateSuggestion,
)


def full_state() -> dict:
    """Every row of every table a merge touches, all columns (raw ciphertext aside)."""
    return {
        model._meta.label: json.loads(serializers.serialize("json", model.objects.order_by("pk")))
        for model in TABLES
    }


def pair(prop):
    survivor = make_guest(
        given_name="Maria",
        surname="Fernandes",
        birth_date=date(1980, 2, 3),
        emails=["maria@example.com"],
        phones=["+351912000111"],
        tags=["golf"],
    )
    duplicate = make_guest(
        given_name="Maria",
        surname="Fernandez",
        birth_date=date(1980, 2, 3),
        emails=["MARIA@example.com", "m.f@work.example"],
        phones=["+351912000222"],
        nationality="PT",
        id_document_type="passport",
        id_document_number="P7654321",
        tags=["spa"],
        vip_level=2,
    )
    guest_address_add(
        guest=duplicate, line1="Rua Augusta 1", city="Lisboa", country="PT", actor=SYSTEM
    )
    guest_preference_set(guest=duplicate, group="pillow", code="foam", actor=SYSTEM)
    guest_preference_set(guest=survivor, group="pillow", code="foam", actor=SYSTEM)
    guest_consent_record(
        guest=duplicate, channel="email", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    guest_external_id_add(
        guest=duplicate, source="opera", property=prop, external_id="D-1", actor=SYSTEM
    )
    company = company_create(name="Acme Travel", kind="corporate", actor=SYSTEM)
    company_contact_add(company=company, guest=duplicate, role="booker", actor=SYSTEM)
    shared = make_reservation(property=prop, guest=survivor, status="checked_out", total="100")
    from crm.services.reservations import reservation_update

    reservation_update(reservation=shared, guests=[survivor, duplicate], actor=SYSTEM)
    make_reservation(
        property=prop,
        guest=duplicate,
        status="checked_out",
        total="250",
        arrival=date(2025, 1, 10),
        nights=4,
    )
    make_reservation(property=prop, guest=survivor, booker_guest=duplicate)
    activity_create(
        object_api_name="guest",
        record_id=duplicate.pk,
        kind="note",
        body="Likes jazz",
        actor=SYSTEM,
    )
    return Guest.objects.get(pk=survivor.pk), Guest.objects.get(pk=duplicate.pk)


def test_rules_produce_suggestions(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        survivor, duplicate = pair(prop)
        other = make_guest(given_name="Mario", surname="Rossi", phones=["+39 06 6982 1234"])
        twin_phone = make_guest(given_name="Luigi", surname="Verdi", phones=["+390669821234"])
        duplicates_find()
        found = set(DuplicateSuggestion.objects.values_list("guest_a", "guest_b", "rule"))
        assert (survivor.pk, duplicate.pk, "email") in found
        assert (survivor.pk, duplicate.pk, "name_birth_date") in found
        assert (other.pk, twin_phone.pk, "phone") in found
        assert all(g not in (other.pk,) for g, _, r in found if r == "email")
        suggestion = DuplicateSuggestion.objects.get(rule="phone")
        duplicate_dismiss(suggestion=suggestion, actor=SYSTEM)
        assert duplicates_find() == 0  # nothing new; the dismissed pair stays dismissed
        assert DuplicateSuggestion.objects.get(pk=suggestion.pk).status == "dismissed"


def test_name_rule_needs_same_birth_date_and_similar_name(tenant_a):
    with tenant_context(tenant_a):
        a = make_guest(given_name="Jonathan", surname="Smith", birth_date=date(1990, 1, 1))
        b = make_guest(given_name="Jonathon", surname="Smith", birth_date=date(1990, 1, 1))
        make_guest(given_name="Jonathan", surname="Smith", birth_date=date(1991, 1, 1))
        make_guest(given_name="Xu", surname="Li", birth_date=date(1990, 1, 1))
        duplicates_find()
        rows = list(DuplicateSuggestion.objects.filter(rule="name_birth_date"))
        assert [(r.guest_a_id, r.guest_b_id) for r in rows] == [(a.pk, b.pk)]
        assert 0.6 <= rows[0].score < 1


def test_merge_moves_everything_to_the_survivor(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        survivor, duplicate = pair(prop)
        dup_id = duplicate.pk
        log = guest_merge(survivor=survivor, duplicate=duplicate, actor=SYSTEM)

        assert not Guest.objects.filter(pk=dup_id).exists()
        s = Guest.objects.get(pk=survivor.pk)
        assert Reservation.objects.filter(guest_id=dup_id).count() == 0
        assert Reservation.objects.filter(guest=s).count() == 3
        assert Reservation.objects.filter(booker_guest=s).count() == 1
        # One link per reservation; the shared one is not doubled.
        assert ReservationGuest.objects.filter(guest=s).count() == 3
        assert sorted(s.emails.values_list("email", "is_primary")) == [
            ("m.f@work.example", False),
            ("maria@example.com", True),
        ]
        assert s.phones.count() == 2 and s.phones.filter(is_primary=True).count() == 1
        assert s.addresses.get().city == "Lisboa"
        assert s.preferences.count() == 1
        assert s.consents.count() == 1
        assert list(s.external_ids.values_list("external_id", flat=True)) == ["D-1"]
        assert CompanyContact.objects.get().guest_id == s.pk
        assert Activity.objects.get().record_id == str(s.pk)
        # Empty fields are filled from the duplicate; tags and VIP combine.
        assert (s.nationality, s.id_document_number, s.vip_level) == ("PT", "P7654321", 2)
        assert s.tags == ["golf", "spa"]
        assert (s.stays, s.nights, s.revenue) == (2, 6, 350)
        assert log.merged_guest_id == dup_id
        with connection.cursor() as cursor:
            cursor.execute("SELECT snapshot::text FROM crm_mergelog WHERE id = %s", [log.pk])
            assert "P7654321" not in cursor.fetchone()[0]


def test_undo_restores_the_original_state_exactly(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        survivor, duplicate = pair(prop)
        duplicates_find()
        before = full_state()
        log = guest_merge(survivor=survivor, duplicate=duplicate, actor=SYSTEM)
        assert full_state() != before
        restored = guest_merge_undo(merge_log=log, actor=SYSTEM)
        assert restored.pk == duplicate.pk
        assert restored.id_document_number == "P7654321"
        assert full_state() == before
        assert MergeLog.objects.get(pk=log.pk).undone_at is not None
        with pytest.raises(Conflict):
            guest_merge_undo(merge_log=log, actor=SYSTEM)


def test_chained_merges_undo_newest_first(tenant_a):
    with tenant_context(tenant_a):
        a, b, c = make_guest(), make_guest(), make_guest(emails=["c@example.com"])
        before = full_state()
        first = guest_merge(survivor=b, duplicate=c, actor=SYSTEM)
        second = guest_merge(survivor=a, duplicate=Guest.objects.get(pk=b.pk), actor=SYSTEM)
        with pytest.raises(Conflict):
            guest_merge_undo(merge_log=first, actor=SYSTEM)
        guest_merge_undo(merge_log=second, actor=SYSTEM)
        guest_merge_undo(merge_log=MergeLog.objects.get(pk=first.pk), actor=SYSTEM)
        assert full_state() == before


def test_survivor_becomes_primary_where_the_duplicate_was(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        survivor, duplicate = make_guest(), make_guest()
        res = make_reservation(
            property=prop, guest=duplicate, guests=[survivor], status="checked_out", total="80"
        )
        guest_merge(survivor=survivor, duplicate=duplicate, actor=SYSTEM)
        assert list(
            ReservationGuest.objects.filter(reservation=res).values_list("guest_id", "is_primary")
        ) == [(survivor.pk, True)]
        s = Guest.objects.get(pk=survivor.pk)
        assert (s.stays, s.revenue) == (1, 80)


def test_name_similarity_follows_trigram_counting():
    assert name_similarity("Fernandes", "Fernandez") == pytest.approx(8 / 12)
    assert name_similarity("Ana Lima", "ana  LIMA") == 1.0
    assert name_similarity("Ana Lima", "Bo Chen") == 0.0
    assert name_similarity("", "Bo Chen") == 0.0
