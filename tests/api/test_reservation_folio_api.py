"""A reservation's folio, payments, balance and status actions through the API and the
reservation screen: writes go through the reservation services (a workflow watching the
status runs), bad input is a 400 naming the field, lower roles and other hotels are
refused without a write."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django_tenants.utils import tenant_context

from crm.models import FolioLine, Payment, RecordChange, Reservation
from metadata.models import WorkflowRun
from metadata.services.workflows import workflow_create
from tenants.users.models import User
from tests.access.test_attacks import code_of, key_client, member, session_client
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def admin_client(tenant, *scopes):
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
    return key_client(tenant, user, *(scopes or ("*",)))


def send(client, method: str, path: str, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def booking(tenant_a):
    with tenant_context(tenant_a):
        hotel = make_property(code="FOL")
        guest = make_guest(surname="Folio")
        return hotel, make_reservation(property=hotel, guest=guest, total="300.00")


def test_charges_and_payments_are_posted_and_the_balance_follows(tenant_a, booking):
    _hotel, stay = booking
    client = admin_client(tenant_a)
    folio = f"/api/v1/reservations/{stay.pk}/folio/"
    night = {
        "kind": "room",
        "amount": "150.004",
        "posted_on": "2026-03-01",
        "description": "Night 1",
    }
    room = send(client, "post", folio, night)
    bar = send(client, "post", folio, {"kind": "fnb", "amount": "42.5", "posted_on": "2026-03-01"})
    assert room.status_code == 201, room.content
    assert room.json()["amount"] == "150.000" and room.json()["currency"] == stay.currency
    assert bar.status_code == 201
    paid = send(client, "post", f"/api/v1/reservations/{stay.pk}/payments/",
                {"method": "card", "amount": "100", "reference": "AUTH-1"})  # fmt: skip
    assert paid.status_code == 201, paid.content
    listed = client.get(folio).json()
    assert [line["description"] for line in listed["results"]] == ["Night 1", ""]
    assert listed["balance"] == [
        {"currency": "EUR", "charges": "192.500", "payments": "100.000", "balance": "92.500"}
    ]
    payments = client.get(f"/api/v1/reservations/{stay.pk}/payments/").json()
    assert [p["reference"] for p in payments["results"]] == ["AUTH-1"]
    with tenant_context(tenant_a):
        assert RecordChange.objects.filter(
            object_api_name="reservation", record_id=str(stay.pk), field="payments"
        ).exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("folio", {"kind": "minibar", "amount": "1", "posted_on": "2026-03-01"}, "kind"),
        ("folio", {"kind": "room", "amount": "abc", "posted_on": "2026-03-01"}, "amount"),
        ("folio", {"kind": "room", "amount": "0", "posted_on": "2026-03-01"}, "amount"),
        ("folio", {"kind": "room", "amount": "1e20", "posted_on": "2026-03-01"}, "amount"),
        ("folio", {"kind": "room", "amount": "1", "posted_on": "0001-01-01"}, "posted_on"),
        (
            "folio",
            {"kind": "room", "amount": "1", "posted_on": "2026-03-01", "currency": "XXX"},
            "currency",
        ),  # fmt: skip
        ("payments", {"method": "cash", "amount": "-5"}, "amount"),
        ("payments", {"method": "barter", "amount": "5"}, "method"),
        (
            "payments",
            {"method": "cash", "amount": "5", "received_at": "9999-12-31T23:59"},
            "received_at",
        ),  # fmt: skip
        ("status", {"action": "teleport"}, "action"),
        ("status", {"action": "cancel", "reason": "r" * 201}, "reason"),
        ("status", {"action": "check_out"}, "status"),  # not in house yet
        ("status", {"action": "check_in", "reason": "why"}, "reason"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(tenant_a, booking, path, body, field):
    _hotel, stay = booking
    answer = send(admin_client(tenant_a), "post", f"/api/v1/reservations/{stay.pk}/{path}/", body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == field
    with tenant_context(tenant_a):
        assert not FolioLine.objects.filter(reservation=stay).exists()
        assert not Payment.objects.filter(reservation=stay).exists()
        assert Reservation.objects.get(pk=stay.pk).status == "reserved"


def test_status_actions_through_the_api(tenant_a, booking):
    _hotel, stay = booking
    client = admin_client(tenant_a)
    path = f"/api/v1/reservations/{stay.pk}/status/"
    confirmed = send(client, "post", path, {"action": "confirm"})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    twice = send(client, "post", path, {"action": "confirm"})
    assert twice.status_code == 409 and code_of(twice) == "already_confirmed"
    cancelled = send(client, "post", path, {"action": "cancel", "reason": "Flight cancelled"})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation_reason"] == "Flight cancelled"
    back = send(client, "post", path, {"action": "reinstate"})
    assert back.json()["status"] == "reserved" and back.json()["cancellation_reason"] == ""
    assert send(client, "post", path, {"action": "check_in"}).json()["status"] == "in_house"
    assert send(client, "post", path, {"action": "check_out"}).json()["status"] == "checked_out"
    final = send(client, "post", path, {"action": "reinstate"})
    assert final.status_code == 400 and code_of(final) == "status_transition_refused"


def test_lower_roles_and_other_hotels_are_refused_without_a_write(tenant_a, booking):
    _hotel, stay = booking
    with tenant_context(tenant_a):
        elsewhere_hotel = make_property(code="FOX")
    sales = session_client(tenant_a, member(tenant_a, "sales-folio@alpha.test", "sales"))
    elsewhere = session_client(
        tenant_a,
        member(tenant_a, "fo-elsewhere@alpha.test", "front_office", hotels=[elsewhere_hotel.pk]),
    )
    charge = {"kind": "room", "amount": "10", "posted_on": "2026-03-01"}
    base = f"/api/v1/reservations/{stay.pk}"
    assert sales.get(f"{base}/folio/").status_code == 200  # sales read reservations
    for path, body in ((f"{base}/folio/", charge), (f"{base}/status/", {"action": "check_in"})):
        refused = send(sales, "post", path, body)
        assert refused.status_code == 403 and code_of(refused) == "permission_denied"
        assert send(elsewhere, "post", path, body).status_code == 404
    assert elsewhere.get(f"{base}/payments/").status_code == 404
    screen = sales.post(f"/reservations/{stay.pk}/status/", {"action": "check_in"})
    assert screen.status_code == 403
    assert (
        elsewhere.post(f"/reservations/{stay.pk}/status/", {"action": "check_in"}).status_code
        == 404
    )
    with tenant_context(tenant_a):
        assert not FolioLine.objects.filter(reservation=stay).exists()
        assert Reservation.objects.get(pk=stay.pk).status == "reserved"


def test_checking_out_on_the_screen_runs_a_workflow(
    tenant_a, booking, settings, django_capture_on_commit_callbacks
):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    hotel, stay = booking
    with tenant_context(tenant_a):
        workflow = workflow_create(
            key="thank_you_task", name="Thank-you task", object_api_name="reservation",
            trigger={"type": "record_updated", "fields": ["status"],
                     "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}]},
            actions=[{"type": "create_task", "subject": "Send a thank-you note"}],
            actor=SYSTEM,
        )  # fmt: skip
    clerk = session_client(tenant_a, member(tenant_a, "fo-checkout@alpha.test", "front_office"))
    page = clerk.get(f"/reservations/{stay.pk}/").content.decode()
    assert 'value="check_in"' in page and 'value="check_out"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(f"/reservations/{stay.pk}/status/", {"action": "check_in"})
    page = clerk.get(f"/reservations/{stay.pk}/").content.decode()
    assert 'value="check_out"' in page and 'data-balance="EUR"' in page
    with django_capture_on_commit_callbacks(execute=True):
        done = clerk.post(f"/reservations/{stay.pk}/status/", {"action": "check_out"})
    assert [str(m) for m in get_messages(done.wsgi_request)][-1] == "Guest checked out."
    with tenant_context(tenant_a):
        assert Reservation.objects.get(pk=stay.pk).status == "checked_out"
        [run] = WorkflowRun.objects.filter(workflow=workflow)
        assert run.status == "succeeded"
        from crm.models import Activity

        assert Activity.objects.filter(
            kind="task", subject="Send a thank-you note", object_api_name="reservation",
            record_id=str(stay.pk),
        ).exists()  # fmt: skip
    odd = clerk.post(f"/reservations/{stay.pk}/status/", {"action": "check_in"})
    assert odd.status_code == 302  # a refused transition is a message, not an error page
    assert any("cannot go from checked_out" in str(m) for m in get_messages(odd.wsgi_request))


def test_cancel_with_a_reason_on_the_screen(tenant_a, booking):
    _hotel, stay = booking
    clerk = session_client(tenant_a, member(tenant_a, "fo-cancel@alpha.test", "front_office"))
    clerk.post(f"/reservations/{stay.pk}/status/", {"action": "confirm"})
    nul = clerk.post(f"/reservations/{stay.pk}/status/", {"action": "cancel", "reason": "a\x00"})
    assert nul.status_code == 302
    assert [str(m) for m in get_messages(nul.wsgi_request)][-1] == (
        "Text cannot contain NUL characters."
    )
    with tenant_context(tenant_a):
        assert Reservation.objects.get(pk=stay.pk).status == "reserved"
    clerk.post(f"/reservations/{stay.pk}/status/", {"action": "cancel", "reason": "Strike"})
    with tenant_context(tenant_a):
        stored = Reservation.objects.get(pk=stay.pk)
    assert (stored.status, stored.cancellation_reason) == ("cancelled", "Strike")
    assert stored.confirmed_at is not None
    page = clerk.get(f"/reservations/{stay.pk}/").content.decode()
    assert "reason: Strike" in page and 'value="reinstate"' in page
    assert "Change history" in page and "<code>cancellation_reason</code>" in page


def test_charges_and_payments_are_posted_on_the_screen(tenant_a, booking):
    _hotel, stay = booking
    clerk = session_client(tenant_a, member(tenant_a, "fo-folio@alpha.test", "front_office"))
    folio = f"/reservations/{stay.pk}/folio/"
    charge = {"entry": "charge", "kind": "fnb", "amount": "45,50", "posted_on": "2026-03-01",
              "description": "Dinner"}  # fmt: skip
    posted = clerk.post(folio, charge)
    assert [str(m) for m in get_messages(posted.wsgi_request)][-1] == "Charge posted."
    clerk.post(folio, {"entry": "payment", "method": "cash", "amount": "20", "reference": "R1"})
    with tenant_context(tenant_a):
        line = FolioLine.objects.get(reservation=stay)
        assert (line.kind, line.amount, line.description) == ("fnb", Decimal("45.500"), "Dinner")
        assert Payment.objects.get(reservation=stay).reference == "R1"
    page = clerk.get(f"/reservations/{stay.pk}/").content.decode()
    assert "Dinner" in page and "€25.50" in page  # the balance due

    for body, message in (
        ({"entry": "charge", "kind": "fnb", "amount": "lots", "posted_on": "2026-03-01"},
         "Give the amount as a number, such as 120.50."),
        ({"entry": "charge", "kind": "fnb", "amount": "NaN", "posted_on": "2026-03-01"},
         "Give the amount as a number, such as 120.50."),
        ({"entry": "charge", "kind": "fnb", "amount": "5", "posted_on": "03/01/2026"},
         "Give the date as YYYY-MM-DD."),
        ({"entry": "payment", "method": "cash", "amount": "-5"},
         "Give the amount as a number, such as 120.50."),
        ({"entry": "refund", "amount": "5"}, "Choose a charge or a payment."),
        ({"entry": "charge", "kind": "spa", "amount": "5", "posted_on": "2026-03-01"}, None),
        ({"entry": "payment", "method": "cash", "amount": "5", "reference": "\x00"},
         "Text cannot contain NUL characters."),
    ):  # fmt: skip
        answer = clerk.post(folio, body)
        assert answer.status_code == 302
        texts = [str(m) for m in get_messages(answer.wsgi_request)]
        assert texts and texts[-1] not in ("Charge posted.", "Payment recorded.")
        if message:
            assert texts[-1] == message
    with tenant_context(tenant_a):
        assert FolioLine.objects.filter(reservation=stay).count() == 1
        assert Payment.objects.filter(reservation=stay).count() == 1
    sales = session_client(tenant_a, member(tenant_a, "sales-folio2@alpha.test", "sales"))
    assert (
        sales.post(folio, {"entry": "payment", "method": "cash", "amount": "5"}).status_code == 403
    )
    assert 'name="entry"' not in sales.get(f"/reservations/{stay.pk}/").content.decode()
