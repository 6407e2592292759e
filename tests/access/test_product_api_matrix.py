"""The same role matrix through the product's own REST resources (/api/v1/guests/,
/companies/, /reservations/, /properties/): a refused action is a 403 with the policy's
message and no data; an allowed one is never refused (it may still fail validation)."""

from __future__ import annotations

import json

import pytest

from tests.access.conftest import SEEDED_ROLES, client_for
from tests.access.test_permission_matrix import allowed
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
COLLECTIONS = {
    "guest": "guests",
    "company": "companies",
    "reservation": "reservations",
    "property": "properties",
}


@pytest.fixture
def records(alpha):
    from crm.services.companies import company_create

    prop = make_property()
    guest = make_guest()
    company = company_create(name="Acme Travel", actor=SYSTEM)
    reservation = make_reservation(property=prop, guest=guest)
    return {
        "guest": guest.pk,
        "company": company.pk,
        "reservation": reservation.pk,
        "property": prop.pk,
    }


def _call(client, obj: str, action: str, pk: int):
    base = f"/api/v1/{COLLECTIONS[obj]}/"
    body = json.dumps({"name": "x"})
    if action == "view":
        return client.get(f"{base}{pk}/")
    if action == "create":
        return client.post(base, data=body, content_type="application/json")
    if action == "edit":
        return client.patch(f"{base}{pk}/", data=body, content_type="application/json")
    return client.delete(f"{base}{pk}/")


@pytest.mark.parametrize("role", SEEDED_ROLES)
def test_product_api_answers_match_the_matrix(make_user, alpha, records, role):
    client = client_for(make_user(role), alpha)
    for obj in COLLECTIONS:
        for action in ("view", "create", "edit", "delete"):
            response = _call(client, obj, action, records[obj])
            body = response.json() if response.content else {}
            if allowed(role, obj, action):
                assert response.status_code != 403, (role, obj, action, body)
            else:
                assert response.status_code == 403, (role, obj, action, body)
                assert body == {
                    "errors": [
                        {
                            "field": None,
                            "code": "permission_denied",
                            "message": f"Your roles do not allow you to {action} {obj} records.",
                        }
                    ]
                }
