"""POST /api/v1/reservations/ota with the OTA_HotelResNotifRQ shape from the contract."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from crm.models import Guest, GuestExternalId, Reservation
from crm.services.properties import rate_plan_create, room_type_create
from tests.api.test_records_api import api, post
from tests.crm.factories import make_guest, make_property
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "HotelReservations": [
        {
            "ResStatus": "Reserved",
            "CreateDateTime": "2026-11-20T10:00:00Z",
            "UniqueID": {"ID": "ABC123", "ID_Context": "PMS"},
            "RoomStays": [
                {
                    "BasicPropertyInfo": {"HotelCode": "HBR1"},
                    "RoomTypes": [{"RoomTypeCode": "DLX"}],
                    "RatePlans": [{"RatePlanCode": "BAR"}],
                    "GuestCounts": [{"AgeQualifyingCode": "10", "Count": 2}],
                    "TimeSpan": {"Start": "2026-12-01", "End": "2026-12-04"},
                    "Total": {"AmountAfterTax": "540.00", "CurrencyCode": "EUR"},
                    "MarketCode": "LEISURE",
                    "SourceOfBusiness": "OTA",
                }
            ],
            "ResGuests": [
                {
                    "PrimaryIndicator": True,
                    "Profiles": [
                        {
                            "UniqueID": {"ID": "G-77", "ID_Context": "PMS"},
                            "Customer": {
                                "PersonName": {
                                    "GivenName": "Mei",
                                    "Surname": "Chen",
                                    "NamePrefix": "Ms",
                                },
                                "Email": "mei.chen@example.com",
                                "Telephone": [{"PhoneNumber": "+85291234567"}],
                                "Language": "zh-hant",
                                "BirthDate": "1988-04-02",
                            },
                        }
                    ],
                }
            ],
        }
    ]
}  # noqa: E501


def _hotel(tenant):
    with tenant_context(tenant):
        prop = make_property(code="HBR1")
        room_type_create(property=prop, code="DLX", name="Deluxe", actor=SYSTEM)
        rate_plan_create(property=prop, code="BAR", name="Best available", actor=SYSTEM)


def test_push_creates_then_updates_one_reservation_and_profile(tenant_a):
    _hotel(tenant_a)
    client = api(tenant_a)
    first = post(client, "/api/v1/reservations/ota", PAYLOAD)
    assert first.status_code == 200, first.content
    [result] = first.json()["results"]
    assert result["status"] == "created" and result["confirmation_number"] == "ABC123"
    with tenant_context(tenant_a):
        reservation = Reservation.objects.get(confirmation_number="ABC123")
        assert (reservation.arrival.isoformat(), reservation.departure.isoformat()) == (
            "2026-12-01",
            "2026-12-04",
        )
        assert reservation.total_amount == Decimal("540.00") and reservation.adults == 2
        assert reservation.room_type.code == "DLX" and reservation.rate_plan.code == "BAR"
        assert (reservation.market_code, reservation.source_of_business) == ("LEISURE", "OTA")
        guest = Guest.objects.get(pk=reservation.guest_id)
        assert (guest.given_name, guest.surname, guest.language) == ("Mei", "Chen", "zh-hant")
        assert guest.email == "mei.chen@example.com" and guest.phone == "+85291234567"
        assert GuestExternalId.objects.filter(guest=guest, source="PMS", external_id="G-77")

    changed = copy.deepcopy(PAYLOAD)
    changed["HotelReservations"][0]["RoomStays"][0]["TimeSpan"]["End"] = "2026-12-05"
    changed["HotelReservations"][0]["ResStatus"] = "Cancel"
    again = post(client, "/api/v1/reservations/ota", changed)
    assert again.json()["results"][0]["status"] == "updated"
    with tenant_context(tenant_a):
        assert Reservation.objects.filter(confirmation_number="ABC123").count() == 1
        reservation = Reservation.objects.get(confirmation_number="ABC123")
        assert reservation.departure.isoformat() == "2026-12-05"
        assert reservation.status == "cancelled"
        assert Guest.objects.filter(surname="Chen").count() == 1


def test_guest_matched_by_email_when_no_external_id_is_known(tenant_a):
    _hotel(tenant_a)
    with tenant_context(tenant_a):
        known = make_guest(given_name="Mei", surname="Chen", emails=["MEI.CHEN@example.com"])
    response = post(api(tenant_a), "/api/v1/reservations/ota", PAYLOAD)
    assert response.json()["results"][0]["guest_ids"] == [known.pk]
    with tenant_context(tenant_a):
        assert GuestExternalId.objects.filter(guest=known, external_id="G-77").exists()


def test_each_reservation_answers_on_its_own(tenant_a):
    _hotel(tenant_a)
    good = PAYLOAD["HotelReservations"][0]
    unknown_hotel = copy.deepcopy(good)
    unknown_hotel["UniqueID"]["ID"] = "XYZ9"
    unknown_hotel["RoomStays"][0]["BasicPropertyInfo"]["HotelCode"] = "NOPE"
    no_dates = copy.deepcopy(good)
    no_dates["UniqueID"]["ID"] = "XYZ8"
    del no_dates["RoomStays"][0]["TimeSpan"]["End"]
    response = post(
        api(tenant_a),
        "/api/v1/reservations/ota",
        {"HotelReservations": [unknown_hotel, good, no_dates]},
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["error", "created", "error"]
    assert results[0]["errors"][0]["field"] == "BasicPropertyInfo.HotelCode"
    assert results[2]["errors"][0]["field"] == "End"
    with tenant_context(tenant_a):
        assert not Reservation.objects.filter(confirmation_number__in=["XYZ9", "XYZ8"]).exists()
    bad = post(api(tenant_a), "/api/v1/reservations/ota", {"Nope": []})
    assert bad.status_code == 400
