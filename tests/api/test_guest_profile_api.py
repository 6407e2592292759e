"""A guest's consents, preferences, e-mails, phones and addresses through the API, and
the privacy tools (export, erase): what each allows, bad input named by field, refusals
for a lower role and a hotel-scoped user that write nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django_tenants.utils import tenant_context

from crm.models import Guest, GuestConsent, GuestPreference, PrivacyRequest
from tenants.users.models import User
from tests.access.test_attacks import code_of, key_client, member, session_client
from tests.crm.factories import make_guest, make_property, make_reservation

pytestmark = pytest.mark.django_db


def admin_client(tenant, *scopes):
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
    return key_client(tenant, user, *(scopes or ("*",)))


def send(client, method: str, path: str, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


def _guest(tenant, **fields):
    with tenant_context(tenant):
        hotel = make_property()
        guest = make_guest(**fields)
        make_reservation(property=hotel, guest=guest)
        return guest, hotel


def test_front_office_records_consent_and_the_history_keeps_who_and_when(tenant_a):
    guest, _hotel = _guest(tenant_a, surname="Consenting")
    clerk = member(tenant_a, "fo-consent@alpha.test", "front_office")
    client = session_client(tenant_a, clerk)
    path = f"/api/v1/guests/{guest.pk}/consents/"

    opt_in = send(client, "post", path, {"channel": "email", "purpose": "marketing",
                                        "opted_in": True, "source": "front desk"})  # fmt: skip
    opt_out = send(client, "post", path, {"channel": "email", "purpose": "marketing",
                                         "opted_in": False, "source": "phone call",
                                         "recorded_at": "2026-01-02T10:00:00"})  # fmt: skip

    assert opt_in.status_code == 201, opt_in.content
    assert opt_in.json()["recorded_by_email"] == "fo-consent@alpha.test"
    assert opt_out.status_code == 201, opt_out.content
    # Without an offset: the tenant's local time (Paris, UTC+1 in January).
    assert opt_out.json()["recorded_at"] == "2026-01-02T09:00:00Z"
    listed = client.get(path).json()
    assert [(c["opted_in"], c["source"]) for c in listed["current"]] == [(True, "front desk")]
    assert [c["source"] for c in listed["history"]] == ["front desk", "phone call"]
    with tenant_context(tenant_a):
        assert GuestConsent.objects.filter(guest=guest, recorded_by_id=clerk.pk).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "pigeon", "purpose": "marketing", "opted_in": True}, "channel"),
        ({"channel": "sms", "purpose": "spam", "opted_in": True}, "purpose"),
        ({"channel": "sms", "purpose": "service"}, "opted_in"),
        ({"channel": "sms", "purpose": "service", "opted_in": True, "source": "x" * 61}, "source"),
        (
            {
                "channel": "sms",
                "purpose": "service",
                "opted_in": True,
                "recorded_at": "2999-01-01T00:00:00Z",
            },
            "recorded_at",
        ),  # fmt: skip
    ],
)
def test_bad_consent_input_is_a_400_naming_the_field(tenant_a, body, field):
    guest, _hotel = _guest(tenant_a)
    answer = send(admin_client(tenant_a), "post", f"/api/v1/guests/{guest.pk}/consents/", body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == field
    with tenant_context(tenant_a):
        assert not GuestConsent.objects.filter(guest=guest).exists()


def test_preferences_are_set_updated_and_cleared(tenant_a):
    guest, hotel = _guest(tenant_a)
    client = admin_client(tenant_a)
    path = f"/api/v1/guests/{guest.pk}/preferences/"
    made = send(client, "post", path, {"group": "pillow", "code": "foam"})
    again = send(client, "post", path, {"group": "PILLOW", "code": "FOAM", "note": "two"})
    here = send(client, "post", path, {"group": "floor", "code": "high", "property": hotel.pk})
    assert made.status_code == 201 and again.status_code == 201 and here.status_code == 201
    assert again.json() == {**made.json(), "note": "two"}
    assert here.json()["property"] == hotel.pk
    assert len(client.get(path).json()["results"]) == 2

    gone = client.delete(f"{path}{made.json()['id']}/")
    assert gone.status_code == 204
    assert [p["code"] for p in client.get(path).json()["results"]] == ["HIGH"]
    assert client.delete(f"{path}{made.json()['id']}/").status_code == 404
    nowhere = send(client, "post", path, {"group": "floor", "code": "low", "property": 999999})
    assert nowhere.status_code == 404 and nowhere.json()["errors"][0]["field"] == "property"
    long = send(client, "post", path, {"group": "g", "code": "c" * 41})
    assert long.status_code == 400 and long.json()["errors"][0]["field"] == "code"


def test_emails_and_phones_are_added_removed_and_made_primary(tenant_a):
    guest, _hotel = _guest(tenant_a, emails=["first@example.com"], phones=["+33612345678"])
    client = admin_client(tenant_a)
    emails = f"/api/v1/guests/{guest.pk}/emails/"
    added = send(client, "post", emails, {"email": "Second@Example.com", "kind": "work"})
    assert added.status_code == 201, added.content
    # The domain is case-insensitive, the local part is kept as typed.
    assert added.json()["value"] == "Second@example.com" and added.json()["primary"] is False
    primary = send(client, "post", f"{emails}{added.json()['id']}/primary/")
    assert primary.status_code == 200
    assert sorted((e["value"], e["primary"]) for e in primary.json()["results"]) == [
        ("Second@example.com", True),
        ("first@example.com", False),
    ]
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).email == "Second@example.com"
    assert client.delete(f"{emails}{added.json()['id']}/").status_code == 204
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).email == "first@example.com"
    bad = send(client, "post", emails, {"email": "not an address"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "email"
    twice = send(client, "post", emails, {"email": "first@example.com"})
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "email"

    phones = f"/api/v1/guests/{guest.pk}/phones/"
    phone = send(client, "post", phones, {"number": "+33 6 98 76 54 32", "primary": True})
    assert phone.status_code == 201 and phone.json()["value"] == "+33698765432"
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).phone == "+33698765432"
    others = [p for p in client.get(phones).json()["results"] if not p["primary"]]
    assert send(client, "post", f"{phones}{others[0]['id']}/primary/").status_code == 200
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).phone == "+33612345678"
    assert client.delete(f"{phones}{phone.json()['id']}/").status_code == 204
    junk = send(client, "post", phones, {"number": "call me"})
    assert junk.status_code == 400 and junk.json()["errors"][0]["field"] == "phone"

    addresses = f"/api/v1/guests/{guest.pk}/addresses/"
    home = send(client, "post", addresses, {"line1": "1 Rue X", "city": "Lyon", "country": "FR"})
    assert home.status_code == 201 and home.json()["primary"] is True
    nowhere = send(client, "post", addresses, {"city": "Atlantis", "country": "QQ"})
    assert nowhere.status_code == 400 and nowhere.json()["errors"][0]["field"] == "addresses"


def test_lower_roles_and_other_hotels_are_refused_and_nothing_is_written(tenant_a):
    guest, _hotel = _guest(tenant_a, emails=["kept@example.com"])
    with tenant_context(tenant_a):
        other_hotel = make_property()
    reader = session_client(tenant_a, member(tenant_a, "ro-guest@alpha.test", "read_only"))
    elsewhere = session_client(
        tenant_a, member(tenant_a, "fo-b@alpha.test", "front_office", hotels=[other_hotel.pk])
    )
    consent = {"channel": "sms", "purpose": "marketing", "opted_in": True}
    base = f"/api/v1/guests/{guest.pk}"
    assert reader.get(f"{base}/consents/").status_code == 200  # reading is allowed
    refused = send(reader, "post", f"{base}/consents/", consent)
    assert refused.status_code == 403 and code_of(refused) == "permission_denied"
    assert (
        send(reader, "post", f"{base}/preferences/", {"group": "a", "code": "b"}).status_code == 403
    )
    assert send(reader, "post", f"{base}/emails/", {"email": "x@example.com"}).status_code == 403
    # Another hotel's front office does not even see the guest.
    assert elsewhere.get(f"{base}/consents/").status_code == 404
    assert send(elsewhere, "post", f"{base}/consents/", consent).status_code == 404
    assert send(elsewhere, "post", f"{base}/phones/", {"number": "+33612345678"}).status_code == 404
    # Only administrators export or erase.
    manager = session_client(tenant_a, member(tenant_a, "gm-x@alpha.test", "general_manager"))
    assert manager.get(f"{base}/export/").status_code == 403
    assert send(manager, "post", f"{base}/erase/", {"confirm": True}).status_code == 403
    assert admin_client(tenant_a, "admin:read").get(f"{base}/export/").status_code == 403
    with tenant_context(tenant_a):
        assert not GuestConsent.objects.filter(guest=guest).exists()
        assert not GuestPreference.objects.filter(guest=guest).exists()
        kept = Guest.objects.get(pk=guest.pk)
        assert kept.erased_at is None and list(kept.emails.values_list("email", flat=True)) == [
            "kept@example.com"
        ]
        assert not PrivacyRequest.objects.filter(guest_id=guest.pk).exists()


def test_export_as_json_and_zip_then_erase_with_confirmation(tenant_a):
    guest, _hotel = _guest(tenant_a, given_name="Odile", surname="Exportable",
                           emails=["odile@example.fr"])  # fmt: skip
    client = admin_client(tenant_a)
    base = f"/api/v1/guests/{guest.pk}"
    data = client.get(f"{base}/export/")
    assert data.status_code == 200
    assert data.json()["profile"]["surname"] == "Exportable"
    assert data.json()["emails"][0]["email"] == "odile@example.fr"
    packed = client.get(f"{base}/export/?file_format=zip")
    assert packed.status_code == 200 and packed["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(packed.content))
    assert "reservations.csv" in archive.namelist()
    assert (
        client.get(f"{base}/export/?file_format=pdf").json()["errors"][0]["field"] == "file_format"
    )

    unconfirmed = send(client, "post", f"{base}/erase/", {"reason": "asked"})
    assert unconfirmed.status_code == 400
    assert unconfirmed.json()["errors"][0]["field"] == "confirm"
    erased = send(client, "post", f"{base}/erase/", {"confirm": True, "reason": "asked by mail"})
    assert erased.status_code == 200, erased.content
    assert erased.json()["id"] == guest.pk and erased.json()["erased_at"]
    again = send(client, "post", f"{base}/erase/", {"confirm": True})
    assert again.status_code == 409 and code_of(again) == "already_erased"
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).surname == f"#{guest.pk}"
        assert list(
            PrivacyRequest.objects.filter(guest_id=guest.pk)
            .order_by("pk")
            .values_list("kind", flat=True)
        ) == ["export", "export", "erase"]
        from tenants.access.models import AuditEvent

        logged = AuditEvent.objects.filter(object_api_name="guest", record_id=str(guest.pk))
        assert sorted(logged.values_list("action", "actor_email")) == [
            ("privacy_erase", "admin@alpha.test"),
            ("privacy_export", "admin@alpha.test"),
            ("privacy_export", "admin@alpha.test"),
        ]
        assert logged.get(action="privacy_erase").details == {"reason": "asked by mail"}


def test_my_open_tasks_leave_out_done_ones_and_records_out_of_reach(tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    from crm.services.activities import activity_create, task_complete
    from tests.principals import SYSTEM

    with tenant_context(tenant_a):
        here, there = make_property(), make_property()
        near, far = make_guest(surname="Near"), make_guest(surname="Far")
        make_reservation(property=here, guest=near)
        make_reservation(property=there, guest=far)
    clerk = member(tenant_a, "fo-tasks@alpha.test", "front_office", hotels=[here.pk])
    with tenant_context(tenant_a):
        soon = timezone.now() + timedelta(hours=1)

        def task(guest, subject, due):
            return activity_create(
                object_api_name="guest", record_id=guest.pk, kind="task", subject=subject,
                assignee=clerk, due_at=due, actor=SYSTEM,
            )  # fmt: skip

        task(near, "Later", soon + timedelta(days=1))
        task(near, "First", soon)
        task(far, "Other hotel", soon)
        task_complete(activity=task(near, "Done", soon), actor=SYSTEM)
    answer = session_client(tenant_a, clerk).get("/api/v1/tasks/open/")
    assert answer.status_code == 200
    assert [t["subject"] for t in answer.json()["results"]] == ["First", "Later"]
    assert session_client(tenant_a, clerk).get("/").status_code == 200
    page = session_client(tenant_a, clerk).get("/").content.decode()
    assert "First" in page and "Other hotel" not in page
