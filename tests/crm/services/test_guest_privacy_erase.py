"""Erasure leaves no copy of the guest anywhere in the tenant's schema: case texts,
outbox messages, webhook payloads, workflow logs and the audit trail included. Export
holds cases and messages and comes as a JSON + CSV zip."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import Case, GuestConsent
from crm.services.activities import activity_create
from crm.services.cases import case_create
from crm.services.guests import (
    guest_address_add,
    guest_consent_record,
    guest_preference_set,
    guest_update,
)
from crm.services.privacy import guest_erase, guest_export, guest_export_archive
from crm.services.reservations import payment_add
from metadata.models import OutboxMessage
from tenants.access.principal import Principal
from tenants.integrations.models import WebhookDelivery
from tenants.integrations.webhooks import webhook_endpoint_create
from tenants.users.models import User
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

GIVEN, SURNAME, EMAIL = "Zebulon", "Quixotewright", "zq.erase@example.org"
OTHER = "zebulon.work@example.net"
PHONE = "+351912345678"


def _guest_everywhere(tenant):
    """A guest whose name and addresses are copied into every place that can hold them."""
    admin = Principal.of(User.objects.get(email=f"admin@{tenant.slug}.test"))
    webhook_endpoint_create(actor=admin, url="https://hooks.example.com/in", event_types=["*"])
    hotel = make_property()
    guest = make_guest(given_name=GIVEN, surname=SURNAME, emails=[EMAIL, OTHER], phones=[PHONE])
    guest_update(guest=guest, actor=admin, vip_level=2)
    guest_address_add(guest=guest, line1="1 Quixotewright Lane", city="Porto", actor=admin)
    guest_preference_set(
        guest=guest, group="pillow", code="foam", note=f"{GIVEN} asked", actor=admin
    )
    guest_consent_record(
        guest=guest, channel="email", purpose="marketing", opted_in=True, source="web form",
        actor=admin,
    )  # fmt: skip
    stay = make_reservation(property=hotel, guest=guest)
    payment_add(reservation=stay, method="card", amount=Decimal("10"), actor=admin)
    case = case_create(
        subject=f"Complaint from {GIVEN} {SURNAME}",
        description=f"Reach {SURNAME} at {EMAIL}",
        guest=guest,
        reservation=stay,
        property=hotel,
        actor=admin,
    )
    activity_create(
        object_api_name="guest", record_id=guest.pk, kind="note",
        body=f"{GIVEN} likes the sea view", actor=admin,
    )  # fmt: skip
    activity_create(
        object_api_name="case", record_id=case.pk, kind="note",
        body=f"Called {SURNAME} back", actor=admin,
    )  # fmt: skip
    OutboxMessage.objects.create(
        channel="email", object_api_name="reservation", record_id=str(stay.pk),
        recipient=EMAIL, language="en", subject=f"Welcome, {GIVEN}",
        body=f"Dear {GIVEN} {SURNAME}, see you soon.", status="sent",
    )  # fmt: skip
    OutboxMessage.objects.create(
        channel="email", recipient=EMAIL, language="en", subject="Offer",
        body="Our offer", status="queued",
    )  # fmt: skip
    from tenants.jobs.models import Job

    Job.objects.create(
        kind="import",
        status="succeeded",
        result={"rejected": [{"row": 3, "email": EMAIL, "error": f"{GIVEN} {SURNAME} twice"}]},
    )
    return admin, guest, case


def _places_holding(needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) of the current tenant schema whose text or JSON
    holds one of the needles."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        )
        columns = cursor.fetchall()
        assert len(columns) > 50  # the search does look at the whole schema
        for table, column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append((table, column, needle))
    return found


def test_erase_leaves_the_guest_in_no_table(tenant_a):
    with tenant_context(tenant_a):
        admin, guest, case = _guest_everywhere(tenant_a)
        needles = [GIVEN, SURNAME, EMAIL, OTHER, PHONE]
        before = _places_holding(needles)
        # The copies are really there before the erasure.
        tables = {t for t, _c, _n in before}
        assert {"crm_guest", "crm_case", "metadata_outboxmessage"} <= tables
        assert "integrations_webhookdelivery" in tables
        assert "crm_recordchange" in tables
        assert "jobs_job" in tables

        guest_erase(guest=guest, actor=admin, reason="data subject request 7")

        assert _places_holding(needles) == []
        case.refresh_from_db()
        assert case.subject == "[erased]" and case.description == ""
        assert Case.objects.filter(pk=case.pk, guest=guest).exists()  # the case stays
        queued = OutboxMessage.objects.get(subject="", status="failed")
        assert queued.error == "The recipient was erased."
        # Consent events stay as proof of what was chosen, without their source.
        assert list(GuestConsent.objects.filter(guest=guest).values_list("opted_in", "source")) == [
            (True, "")
        ]
        assert WebhookDelivery.objects.filter(event_type="guest.erased").exists()


def test_another_guest_keeps_their_texts(tenant_a):
    with tenant_context(tenant_a):
        admin, guest, _case = _guest_everywhere(tenant_a)
        namesake = make_guest(given_name=GIVEN, surname="Other")
        note = activity_create(
            object_api_name="guest", record_id=namesake.pk, kind="note",
            body=f"{GIVEN} Other prefers tea", actor=admin,
        )  # fmt: skip
        guest_erase(guest=guest, actor=admin)
        note.refresh_from_db()
        namesake.refresh_from_db()
        assert note.body == f"{GIVEN} Other prefers tea"
        assert namesake.given_name == GIVEN


def test_export_archive_holds_every_section_as_json_and_csv(tenant_a):
    with tenant_context(tenant_a):
        admin, guest, case = _guest_everywhere(tenant_a)
        data = guest_export(guest=guest, actor=admin)
        assert [c["subject"] for c in data["cases"]] == [case.subject]
        assert {m["recipient"] for m in data["messages"]} == {EMAIL}
        assert data["consents"][0]["recorded_by_id"] == admin.user_id
        assert data["preferences"][0]["code"] == "FOAM"
        archive = zipfile.ZipFile(io.BytesIO(guest_export_archive(data=data)))
        names = set(archive.namelist())
        assert {"guest.json", "profile.csv", "cases.csv", "messages.csv", "payments.csv"} <= names
        assert json.loads(archive.read("guest.json"))["profile"]["surname"] == SURNAME
        payments = archive.read("payments.csv").decode("utf-8-sig").splitlines()
        assert payments[0].startswith("reservation_id,") and "10.000" in payments[1]
        assert SURNAME in archive.read("profile.csv").decode("utf-8-sig")


def test_export_csv_files_run_no_formula(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(given_name='=HYPERLINK("http://x","y")', surname="Formula")
        guest_preference_set(guest=guest, group="note", code="c", note="@SUM(A1)", actor=SYSTEM)
        data = guest_export(guest=guest, actor=SYSTEM)
        archive = zipfile.ZipFile(io.BytesIO(guest_export_archive(data=data)))
        profile = archive.read("profile.csv").decode("utf-8-sig")
        assert "'=HYPERLINK" in profile and ",=HYPERLINK" not in profile
        assert "'@SUM(A1)" in archive.read("preferences.csv").decode("utf-8-sig")
        # The JSON keeps the values as they are.
        assert json.loads(archive.read("guest.json"))["profile"]["given_name"].startswith("=")


def test_only_an_administrator_exports_or_erases(tenant_a):
    from tenants.access.errors import AccessDenied
    from tenants.access.models import Role
    from tenants.access.services import user_roles_set

    with tenant_context(tenant_a):
        guest = make_guest(surname="Kept")
        user = User.objects.create_user(email="gm-privacy@alpha.test", password="x" * 16)
        user_roles_set(user=user, roles=Role.objects.filter(key="general_manager"), actor=SYSTEM)
        manager = Principal.of(user)
        with pytest.raises(AccessDenied):
            guest_export(guest=guest, actor=manager)
        with pytest.raises(AccessDenied):
            guest_erase(guest=guest, actor=manager)
        guest.refresh_from_db()
        assert guest.surname == "Kept" and guest.erased_at is None
