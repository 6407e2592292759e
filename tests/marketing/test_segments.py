"""Segments: a dynamic segment's count equals the guests its conditions match in plain
SQL; include/exclude; static lists by pick and by snapshot; bad conditions are refused
naming the part; a condition on a field the author cannot read is refused."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from crm.marketing.models import Segment
from crm.marketing.selectors.segments import definition_guests, segment_guests
from crm.marketing.services.segments import (
    segment_create,
    segment_snapshot,
    static_members_add,
)
from crm.services.guests import guest_consent_record
from metadata.services.definitions import custom_field_create
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

DEFINITION = {
    "conditions": [
        {"field": "nationality", "op": "eq", "value": "FR"},
        {"field": "custom.points", "op": "gte", "value": 10},
    ],
    "consent": {"channel": "email", "purpose": "marketing", "state": "opted_in"},
    "reservations": {"property_ids": [], "arrival_from": "2026-01-01"},
}


@pytest.fixture
def population(marketing):
    """60 guests with every mix of nationality, points, consent history and stays."""
    custom_field_create(
        object_api_name="guest", api_name="points", label="Points", type="integer", actor=SYSTEM
    )
    hotel, other = make_property(code="SEG1"), make_property(code="SEG2")
    rng = random.Random(21)
    now = timezone.now()
    for n in range(60):
        guest = make_guest(
            surname=f"Pop{n}",
            nationality=rng.choice(["FR", "DE", "FR", ""]),
            custom={"points": rng.choice([None, 3, 10, 25])},
        )
        history = rng.choice([[], [True], [False], [True, False], [False, True]])
        for i, opted_in in enumerate(history):
            guest_consent_record(
                guest=guest,
                channel=rng.choice(["email", "email", "sms"]),
                purpose="marketing",
                opted_in=opted_in,
                recorded_at=now - timedelta(days=10 - i),
                actor=SYSTEM,
            )
        for _ in range(rng.choice([0, 1, 2])):
            make_reservation(
                property=rng.choice([hotel, other]),
                guest=guest,
                arrival=date(2025, 12, 1) + timedelta(days=rng.randrange(90)),
            )
    # Three that match everything, and for each condition one that misses only it.
    for miss in ("", "", "", "nationality", "points", "consent", "hotel", "arrival"):
        guest = make_guest(
            surname=f"Near{miss}",
            nationality="DE" if miss == "nationality" else "FR",
            custom={"points": 9 if miss == "points" else 10},
        )
        guest_consent_record(
            guest=guest,
            channel="email",
            purpose="marketing",
            opted_in=miss != "consent",
            actor=SYSTEM,
        )
        make_reservation(
            property=other if miss == "hotel" else hotel,
            guest=guest,
            arrival=date(2025, 12, 31) if miss == "arrival" else date(2026, 1, 1),
        )
    return hotel


SQL = """
SELECT count(*) FROM crm_guest g
 WHERE g.erased_at IS NULL
   AND g.nationality = 'FR'
   AND (g.custom->>'points')::numeric >= 10
   AND (SELECT c.opted_in FROM crm_guestconsent c
         WHERE c.guest_id = g.id AND c.channel = 'email' AND c.purpose = 'marketing'
         ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1) IS TRUE
   AND EXISTS (SELECT 1 FROM crm_reservation r
                WHERE r.guest_id = g.id AND r.property_id = %s AND r.arrival >= '2026-01-01')
"""


def test_the_count_equals_the_guests_its_conditions_match_in_sql(population):
    definition = {**DEFINITION, "reservations": {**DEFINITION["reservations"]}}
    definition["reservations"]["property_ids"] = [population.pk]
    segment = segment_create(name="Loyal French", definition=definition, actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute(SQL, [population.pk])
        (expected,) = cursor.fetchone()
    assert expected >= 3  # the three made to match, and any of the random ones
    assert segment_guests(actor=SYSTEM, segment=segment).count() == expected
    assert definition_guests(actor=SYSTEM, definition=definition).count() == expected


def test_include_and_exclude_combine_segments(population):
    french = segment_create(
        name="French", definition={"conditions": [DEFINITION["conditions"][0]]}, actor=SYSTEM
    )
    rich = segment_create(
        name="Rich", definition={"conditions": [DEFINITION["conditions"][1]]}, actor=SYSTEM
    )
    opted = segment_create(
        name="Opted in", definition={"consent": DEFINITION["consent"]}, actor=SYSTEM
    )
    combined = segment_create(
        name="French or rich, not opted in",
        definition={"conditions": [{"field": "id", "op": "lt", "value": 0}]},
        include=[french.pk, rich.pk],
        exclude=[opted.pk],
        actor=SYSTEM,
    )

    def ids(segment: Segment) -> set[int]:
        return set(segment_guests(actor=SYSTEM, segment=segment).values_list("pk", flat=True))

    assert ids(combined) == (ids(french) | ids(rich)) - ids(opted)
    assert ids(combined)


def test_static_lists_hold_picked_guests_and_snapshots(population):
    picked = [make_guest(surname="Picked").pk, make_guest(surname="Picked").pk]
    static = segment_create(name="VIP list", kind="static", guest_ids=picked, actor=SYSTEM)
    assert set(segment_guests(actor=SYSTEM, segment=static).values_list("pk", flat=True)) == set(
        picked
    )
    with pytest.raises(ValidationError) as missing:
        static_members_add(segment=static, guest_ids=[2**40], actor=SYSTEM)
    assert "guest_ids" in missing.value.message_dict
    french = segment_create(
        name="French", definition={"conditions": [DEFINITION["conditions"][0]]}, actor=SYSTEM
    )
    before = set(segment_guests(actor=SYSTEM, segment=french).values_list("pk", flat=True))
    frozen = segment_snapshot(segment=french, name="French in March", actor=SYSTEM)
    make_guest(surname="Later", nationality="FR")
    assert set(segment_guests(actor=SYSTEM, segment=frozen).values_list("pk", flat=True)) == before
    assert segment_guests(actor=SYSTEM, segment=french).count() == len(before) + 1


@pytest.mark.parametrize(
    "definition, field",
    [
        ({"conditions": [{"field": "no_such", "op": "eq", "value": 1}]}, "conditions"),
        ({"conditions": [{"field": "custom.points", "op": "gte", "value": "lots"}]}, "conditions"),
        ({"conditions": [{"field": "surname", "op": "near", "value": "x"}]}, "conditions"),
        ({"consent": {"channel": "pigeon"}}, "consent"),
        ({"reservations": {"arrival_from": "soon"}}, "reservations.arrival_from"),
        ({"reservations": {"nights": 3}}, "reservations.nights"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_definitions_are_refused_naming_the_part(population, definition, field):
    with pytest.raises(ValidationError) as refused:
        segment_create(name="Bad", definition=definition, actor=SYSTEM)
    assert field in refused.value.message_dict


def test_a_marketer_cannot_segment_on_a_field_hidden_from_them(population, make_user):
    marketer = Principal.of(make_user("marketing"))
    allowed = segment_create(
        name="By nationality",
        definition={"conditions": [DEFINITION["conditions"][0]]},
        actor=marketer,
    )
    assert segment_guests(actor=marketer, segment=allowed).count() > 0
    with pytest.raises(AccessDenied):
        segment_create(
            name="By birthday",
            definition={"conditions": [{"field": "birth_date", "op": "isnull", "value": False}]},
            actor=marketer,
        )
