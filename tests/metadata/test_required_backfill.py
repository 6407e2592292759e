"""Making a field required on an object that already holds records: the records without
a value are named and, given a backfill value, filled in the same transaction; nothing
is half-done when the value is refused."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from crm.models import Guest
from metadata.models import MetadataChange, Record
from metadata.services.definitions import custom_field_create, object_definition_create
from metadata.services.records import record_create
from tests.api.test_records_api import api
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

FIELD = "/api/v1/metadata/objects/guest/fields/"


def _guests_with_and_without(tenant) -> dict[str, int]:
    with tenant_context(tenant):
        custom_field_create(
            object_api_name="guest", api_name="room_pref", label="Room", type="text",
            actor=SYSTEM,
        )  # fmt: skip
        made = {
            "set": make_guest(surname="Set", custom={"room_pref": "sea"}),
            "absent": make_guest(surname="Absent"),
            "empty": make_guest(surname="Empty", custom={"room_pref": ""}),
        }
        Guest.objects.filter(pk=made["empty"].pk).update(custom={"room_pref": None})
        return {k: g.pk for k, g in made.items()}


def _values(tenant, ids: dict[str, int]) -> dict[str, object]:
    with tenant_context(tenant):
        stored = dict(Guest.objects.filter(pk__in=ids.values()).values_list("pk", "custom"))
    return {k: stored[pk].get("room_pref") for k, pk in ids.items()}


def test_without_a_backfill_the_change_is_refused_naming_how_many(tenant_a):
    ids = _guests_with_and_without(tenant_a)
    client = api(tenant_a)

    refused = client.patch(
        FIELD + "room_pref/", {"required": True}, content_type="application/json"
    )

    assert refused.status_code == 409, refused.content
    error = refused.json()["errors"][0]
    assert (error["code"], error["field"]) == ("backfill_required", "backfill")
    assert "2 guest records have no value for room_pref" in error["message"]
    with tenant_context(tenant_a):
        from metadata.models import FieldDefinition

        assert FieldDefinition.objects.get(api_name="room_pref").required is False
    assert _values(tenant_a, ids) == {"set": "sea", "absent": None, "empty": None}


def test_a_backfill_fills_only_the_records_without_a_value(tenant_a):
    ids = _guests_with_and_without(tenant_a)

    done = api(tenant_a).patch(
        FIELD + "room_pref/", {"required": True, "backfill": "garden"},
        content_type="application/json",
    )  # fmt: skip

    assert done.status_code == 200, done.content
    assert _values(tenant_a, ids) == {"set": "sea", "absent": "garden", "empty": "garden"}
    with tenant_context(tenant_a):
        from metadata.models import FieldDefinition

        assert FieldDefinition.objects.get(api_name="room_pref").required is True
        change = MetadataChange.objects.filter(action="field.backfill").latest("version")
        assert change.target == "guest.room_pref"
        assert change.after == {"records": 2, "value": "garden"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"required": True, "backfill": ""}, 400),
        ({"required": True, "backfill": {"deep": 1}}, 400),
        ({"backfill": "garden"}, 400),  # not becoming required
    ],
)
def test_a_bad_backfill_is_a_400_naming_it_and_changes_nothing(tenant_a, body, status):
    ids = _guests_with_and_without(tenant_a)

    refused = api(tenant_a).patch(FIELD + "room_pref/", body, content_type="application/json")

    assert refused.status_code == status, refused.content
    assert refused.json()["errors"][0]["field"] == "backfill"
    assert _values(tenant_a, ids) == {"set": "sea", "absent": None, "empty": None}
    with tenant_context(tenant_a):
        from metadata.models import FieldDefinition

        assert FieldDefinition.objects.get(api_name="room_pref").required is False


def test_a_new_required_field_on_a_record_type_with_records(tenant_a):
    with tenant_context(tenant_a):
        for key in ("spa_visit", "gym_visit"):
            object_definition_create(
                api_name=key, label=key, label_plural=key, module="service", actor=SYSTEM
            )
            custom_field_create(
                object_api_name=key, api_name="minutes", label="Minutes", type="integer",
                actor=SYSTEM,
            )  # fmt: skip
        spa = [
            record_create(object_api_name="spa_visit", name=f"S{n}", data={"minutes": n},
                          actor=SYSTEM)
            for n in (30, 60)
        ]  # fmt: skip
        gym = record_create(object_api_name="gym_visit", name="G", data={}, actor=SYSTEM)
    client = api(tenant_a)
    path = "/api/v1/metadata/objects/spa_visit/fields/"
    body = {"api_name": "therapist", "label": "Therapist", "type": "text", "required": True}

    refused = client.post(path, body, content_type="application/json")
    assert refused.status_code == 409, refused.content
    assert "2 spa_visit records" in refused.json()["errors"][0]["message"]
    wrong = client.post(
        "/api/v1/metadata/objects/gym_visit/fields/",
        {**body, "type": "integer", "backfill": "lots"},
        content_type="application/json",
    )
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "backfill"

    made = client.post(path, {**body, "backfill": "Mei"}, content_type="application/json")

    assert made.status_code == 201, made.content
    with tenant_context(tenant_a):
        assert [Record.objects.get(pk=r.pk).data for r in spa] == [
            {"minutes": 30, "therapist": "Mei"},
            {"minutes": 60, "therapist": "Mei"},
        ]
        assert Record.objects.get(pk=gym.pk).data == {}  # another record type's rows


def test_a_date_backfill_is_stored_as_the_field_stores_dates(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(surname="Dated")
    client = api(tenant_a)
    made = client.post(
        FIELD,
        {"api_name": "since", "label": "Since", "type": "date", "required": True,
         "backfill": "2026-01-31"},
        content_type="application/json",
    )  # fmt: skip

    assert made.status_code == 201, made.content
    assert client.get(f"/api/v1/guests/{guest.pk}/").json()["custom"]["since"] == "2026-01-31"
