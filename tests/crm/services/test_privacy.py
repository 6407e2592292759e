"""Guest export (everything, as JSON) and erasure (anonymised, revenue kept), logged."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django_tenants.utils import tenant_context

from crm.models import Guest, PrivacyRequest, RecordChange, Reservation
from crm.services.activities import activity_create
from crm.services.guests import guest_consent_record, guest_external_id_add
from crm.services.privacy import guest_erase, guest_export
from crm.services.reservations import folio_line_add
from tenants.errors import Conflict
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_export_holds_everything_about_the_guest(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        guest = make_guest(
            surname="Okafor",
            emails=["ok@example.com"],
            phones=["+2348031234567"],
            id_document_type="passport",
            id_document_number="A0001",
            birth_date=date(1970, 1, 2),
        )
        guest_consent_record(
            guest=guest, channel="sms", purpose="marketing", opted_in=True, actor=SYSTEM
        )
        guest_external_id_add(guest=guest, source="pms", external_id="77", actor=SYSTEM)
        res = make_reservation(property=prop, guest=guest, status="checked_out")
        folio_line_add(
            reservation=res,
            kind="room",
            amount=Decimal("150"),
            posted_on=date(2026, 3, 1),
            actor=SYSTEM,
        )
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="call",
            direction="inbound",
            actor=SYSTEM,
        )

        data = guest_export(guest=guest, actor=SYSTEM)
        json.dumps(data)  # plain JSON types only
        assert data["profile"]["surname"] == "Okafor"
        assert data["profile"]["id_document_number"] == "A0001"
        assert data["profile"]["birth_date"] == "1970-01-02"
        assert [e["email"] for e in data["emails"]] == ["ok@example.com"]
        assert data["phones"][0]["number"] == "+2348031234567"
        assert data["consents"][0]["channel"] == "sms"
        assert data["external_ids"][0]["external_id"] == "77"
        assert data["reservations"][0]["confirmation_number"] == res.confirmation_number
        assert data["reservations"][0]["folio_lines"][0]["amount"] == "150.000"
        assert data["activities"][0]["kind"] == "call"
        assert any(c["action"] == "create" for c in data["changes"])
        assert PrivacyRequest.objects.filter(kind="export", guest_id=guest.pk).count() == 1


def test_erase_anonymises_but_keeps_reservations_and_revenue(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        guest = make_guest(
            given_name="Ingrid",
            surname="Bergqvist",
            emails=["ingrid@example.se"],
            phones=["+46701234567"],
            birth_date=date(1985, 6, 7),
            nationality="SE",
            id_document_type="passport",
            id_document_number="SE998877",
            tags=["vip"],
        )
        make_reservation(property=prop, guest=guest, status="checked_out", total="900")
        make_reservation(
            property=prop, guest=guest, status="checked_out", total="100", arrival=date(2025, 1, 1)
        )
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="note",
            body="Ingrid asked for a crib",
            actor=SYSTEM,
        )
        revenue_before = Reservation.objects.aggregate(t=Sum("total_amount"))["t"]
        stats_before = Guest.objects.values_list("stays", "nights", "revenue").get(pk=guest.pk)

        guest_erase(guest=guest, reason="GDPR art. 17 request", actor=SYSTEM)

        g = Guest.objects.get(pk=guest.pk)
        assert (g.given_name, g.surname) == ("Erased", f"#{g.pk}")
        assert (g.email, g.phone, g.birth_date, g.nationality, g.id_document_number) == (
            "",
            "",
            None,
            "",
            "",
        )
        assert g.tags == [] and g.erased_at is not None
        assert not g.emails.exists() and not g.phones.exists()
        assert (g.stays, g.nights, g.revenue) == stats_before
        assert Reservation.objects.filter(guest=g).count() == 2
        assert Reservation.objects.aggregate(t=Sum("total_amount"))["t"] == revenue_before
        # Nothing personal left anywhere in the tenant's schema.
        with connection.cursor() as cursor:
            for table in ("crm_guest", "crm_recordchange", "crm_activity", "crm_guestemail"):
                cursor.execute(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")  # noqa: S608
                dump = cursor.fetchone()[0]
                for secret in ("Ingrid", "Bergqvist", "ingrid@example.se", "+46701234567"):
                    assert secret not in dump, (table, secret)
        assert PrivacyRequest.objects.get(kind="erase", guest_id=g.pk).reason.startswith("GDPR")
        assert RecordChange.objects.filter(
            object_api_name="guest", record_id=str(g.pk), action="erase"
        ).exists()
        with pytest.raises(Conflict):
            guest_erase(guest=g, actor=SYSTEM)
