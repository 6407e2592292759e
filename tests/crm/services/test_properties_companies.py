"""Properties (translated), room types, rate plans, companies and their contacts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.models import CompanyContact, Property, RecordChange
from crm.services.companies import company_contact_add, company_create, company_update
from crm.services.properties import (
    property_create,
    property_update,
    rate_plan_create,
    room_type_create,
)
from tenants.errors import Conflict
from tests.crm.factories import make_guest, make_property
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_property_with_translations_and_all_fields(tenant_a):
    with tenant_context(tenant_a):
        prop = property_create(
            code="hbrmac",
            name="Harbour Macau",
            name_zh_hant="澳門港灣酒店",
            description="By the Inner Harbour",
            country="mo",
            timezone="Asia/Macau",
            currency="mop",
            star_rating=5,
            room_count=250,
            opened_on=date(2019, 1, 1),
            address_line1="Rua do Porto 1",
            city="Macau",
            actor=SYSTEM,
        )
        prop = Property.objects.get(pk=prop.pk)
        assert (prop.code, prop.country, prop.currency) == ("HBRMAC", "MO", "MOP")
        with translation.override("zh-hant"):
            assert prop.name == "澳門港灣酒店"
        with translation.override("ja"):  # no Japanese name: falls back to English
            assert prop.name == "Harbour Macau"
        property_update(property=prop, room_count=260, actor=SYSTEM)
        change = RecordChange.objects.get(
            object_api_name="property", record_id=str(prop.pk), field="room_count", action="update"
        )
        assert (change.old, change.new) == (250, 260)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"country": "ZZ"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"star_rating": 9}, "star_rating"),
        ({"pool": True}, "pool"),
    ],
)
def test_property_refuses_bad_values(tenant_a, fields, field):
    with tenant_context(tenant_a):
        base = {
            "code": "BAD1",
            "name": "Bad",
            "country": "PT",
            "currency": "EUR",
            "timezone": "Europe/Lisbon",
        }
        with pytest.raises(ValidationError) as exc:
            property_create(**{**base, **fields}, actor=SYSTEM)
        assert field in exc.value.message_dict


def test_room_types_and_rate_plans_belong_to_a_property(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property(currency="JPY", country="JP", timezone="Asia/Tokyo")
        room = room_type_create(
            property=prop,
            code="dbl",
            name="Double",
            name_ja="ダブル",
            capacity=2,
            base_rate=Decimal("15000.4"),
            actor=SYSTEM,
        )
        assert (room.code, room.currency, room.base_rate) == ("DBL", "JPY", Decimal("15000"))
        plan = rate_plan_create(property=prop, code="bar", name="Best available", actor=SYSTEM)
        assert plan.code == "BAR"
        with pytest.raises(Conflict):  # the code is taken at this hotel: a 409
            room_type_create(property=prop, code="DBL", name="Again", actor=SYSTEM)


def test_company_with_contacts_and_external_id(tenant_a):
    with tenant_context(tenant_a):
        company = company_create(
            name="Initech",
            kind="corporate",
            external_id="ACC-9",
            phone="020 7946 0000",
            country="GB",
            email="T@Initech.EXAMPLE",
            actor=SYSTEM,
        )
        assert (company.phone, company.email) == ("+442079460000", "T@initech.example")
        with pytest.raises(Conflict):
            company_create(name="Other", external_id="ACC-9", actor=SYSTEM)
        with pytest.raises(ValidationError):
            company_create(name="Other", kind="pirate", actor=SYSTEM)
        booker, manager = make_guest(), make_guest()
        company_contact_add(company=company, guest=booker, role="booker", actor=SYSTEM)
        company_contact_add(
            company=company, guest=manager, role="travel_manager", primary=True, actor=SYSTEM
        )
        assert list(
            CompanyContact.objects.filter(company=company).values_list("role", "is_primary")
        ) == [("travel_manager", True), ("booker", False)]
        company_update(company=company, name="Initech Ltd", actor=SYSTEM)
        assert RecordChange.objects.filter(
            object_api_name="company", field="name", new="Initech Ltd"
        ).exists()
