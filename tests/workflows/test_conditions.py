"""Condition trees: every operator of the metadata selector on standard and custom
fields, related records (a reservation's guest), AND/OR nesting, and clear errors when a
workflow is saved with a bad condition."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from metadata.services.definitions import custom_field_create
from metadata.workflows.conditions import conditions_met, value_matches
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def guests(alpha):
    custom_field_create(
        object_api_name="guest", api_name="points", label="Points", type="integer", actor=SYSTEM
    )
    custom_field_create(
        object_api_name="guest",
        api_name="tier",
        label="Tier",
        type="choice",
        choices=["gold", "silver"],
        actor=SYSTEM,
    )
    return {
        "ana": make_guest(
            given_name="Ana", vip_level=3, nationality="PT", custom={"points": 500, "tier": "gold"}
        ),
        "bo": make_guest(given_name="Bo", vip_level=0, custom={"points": 20}),
    }


def met(guest, tree) -> bool:
    return conditions_met(object_api_name="guest", record_id=str(guest.pk), tree=tree)


@pytest.mark.parametrize(
    ("field", "op", "value", "ana", "bo"),
    [
        ("vip_level", "eq", 3, True, False),
        ("vip_level", "ne", 3, False, True),
        ("vip_level", "in", [1, 3], True, False),
        ("vip_level", "gt", 2, True, False),
        ("vip_level", "gte", 3, True, False),
        ("vip_level", "lt", 3, False, True),
        ("vip_level", "lte", 0, False, True),
        ("given_name", "contains", "an", True, False),
        ("nationality", "isnull", False, True, True),  # blank, not NULL, for Bo
        ("points", "eq", 500, True, False),
        ("points", "ne", 500, False, True),
        ("points", "in", "20,30", False, True),
        ("points", "gt", 100, True, False),
        ("points", "gte", 20, True, True),
        ("points", "lt", 100, False, True),
        ("points", "lte", 500, True, True),
        ("tier", "contains", "gol", True, False),
        ("tier", "isnull", True, False, True),
        ("custom.tier", "eq", "gold", True, False),
    ],
)
def test_each_operator_on_standard_and_custom_fields(guests, field, op, value, ana, bo):
    tree = {"all": [{"field": field, "op": op, "value": value}]}
    assert (met(guests["ana"], tree), met(guests["bo"], tree)) == (ana, bo)


def test_and_or_nesting(guests):
    tree = {
        "any": [
            {
                "all": [
                    {"field": "vip_level", "op": "gte", "value": 3},
                    {"field": "points", "op": "lt", "value": 100},
                ]
            },
            {"field": "given_name", "op": "eq", "value": "Bo"},
        ]
    }
    assert not met(guests["ana"], tree)
    assert met(guests["bo"], tree)
    assert met(guests["ana"], {})  # no conditions: always


def test_related_record_fields(alpha):
    prop = make_property()
    vip = make_reservation(property=prop, guest=make_guest(vip_level=2))
    plain = make_reservation(property=prop, guest=make_guest(vip_level=0))
    tree = {
        "all": [
            {"field": "guest.vip_level", "op": "gte", "value": 1},
            {"field": "status", "op": "eq", "value": "reserved"},
        ]
    }
    assert conditions_met(object_api_name="reservation", record_id=str(vip.pk), tree=tree)
    assert not conditions_met(object_api_name="reservation", record_id=str(plain.pk), tree=tree)
    arrival = {"all": [{"field": "arrival", "op": "gte", "value": "2026-03-01"}]}
    assert conditions_met(object_api_name="reservation", record_id=str(vip.pk), tree=arrival)
    assert vip.arrival == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("conditions", "field", "code"),
    [
        (
            {"all": [{"field": "shoe_size", "op": "eq", "value": 1}]},
            "conditions.all[0].field",
            "field",
        ),
        (
            {"all": [{"field": "vip_level", "op": "between", "value": 1}]},
            "conditions.all[0].op",
            "operator",
        ),
        (
            {"all": [{"field": "points", "op": "gte", "value": "lots"}]},
            "conditions.all[0].value",
            "invalid",
        ),
        (
            {"any": [{"field": "hotel.name", "op": "eq", "value": "x"}]},
            "conditions.any[0].field",
            "relation",
        ),
        ({"all": []}, "conditions.all", "invalid"),
        (
            {"all": [{"field": "vip_level", "value": 1, "colour": "red"}]},
            "conditions.all[0]",
            "invalid",
        ),
        ({"all": "vip"}, "conditions.all", "invalid"),
    ],
)
def test_bad_conditions_are_refused_when_saved(guests, conditions, field, code):
    with pytest.raises(ValidationError) as info:
        make_workflow(conditions=conditions, actions=[{"type": "add_tag", "tag": "x"}])
    assert list(info.value.error_dict) == [field]
    assert info.value.error_dict[field][0].code == code


def test_old_and_new_values_use_the_same_operators():
    assert value_matches("checked_out", "eq", "checked_out")
    assert value_matches(5, "gt", "4") and not value_matches(None, "gt", 4)
    assert value_matches(["a", "b"], "contains", "a") and value_matches("", "isnull", True)
    assert value_matches("2026-03-02", "gte", "2026-03-01")
    assert value_matches("in_house", "in", ["reserved", "in_house"])
