"""The UI applies the same policy: refused pages say why (403), the guest list follows
property scoping, and administrators browse the audit log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.models import Guest, Property, Reservation
from tenants.access.services import audit_log, user_property_scope_set
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_user_without_guest_access_gets_a_clear_403(make_user, alpha):
    client = client_for(make_user(), alpha)

    response = client.get("/guests/")

    assert response.status_code == 403
    assert b"Your roles do not allow you to view guest records." in response.content


def test_guest_list_follows_property_scope(make_user, alpha):
    paris = Property.objects.create(code="P1", name="Paris", country="FR", currency="EUR")
    nice = Property.objects.create(code="N1", name="Nice", country="FR", currency="EUR")
    for number, (hotel, surname) in enumerate([(paris, "Parisot"), (nice, "Nicoise")]):
        Reservation.objects.create(
            property=hotel,
            guest=Guest.objects.create(given_name="G", surname=surname),
            confirmation_number=f"UI{number}",
            arrival=date(2026, 6, 1),
            departure=date(2026, 6, 2),
            total_amount=Decimal("100"),
            currency="EUR",
        )
    clerk = make_user("front_office")
    user_property_scope_set(user=clerk, property_ids=[paris.pk], actor=SYSTEM)

    page = client_for(clerk, alpha).get("/guests/")

    assert page.status_code == 200
    assert b"Parisot" in page.content
    assert b"Nicoise" not in page.content


def test_audit_log_page_for_admins_only(make_user, alpha):
    admin = make_user("tenant_admin")
    manager = make_user("general_manager")
    audit_log(action="export", actor=manager, object_api_name="reservation", record_count=12)
    audit_log(action="export", actor=manager, object_api_name="guest", record_count=3)

    client = client_for(admin, alpha)
    page = client.get("/access/audit/", {"object": "reservation", "actor": manager.email})
    assert page.status_code == 200
    assert b"reservation" in page.content and b">12<" in page.content
    assert b">3<" not in page.content
    bad = client.get("/access/audit/", {"since": "2026-05-02", "until": "2026-05-01"})
    assert bad.status_code == 400
    assert b"The end date is before the start date." in bad.content

    refused = client_for(manager, alpha).get("/access/audit/")
    assert refused.status_code == 403
