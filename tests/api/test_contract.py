"""The record endpoints keep the contract their OpenAPI document states: versions
(ETag / If-Match), a GET cut to the update schema PATCHes back unchanged, write schemas
made of what the writers take, and malformed requests answered as the document says."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from metadata.services.definitions import custom_field_create, object_definition_create
from tests.api.test_records_api import api, patch, post
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _definitions() -> None:
    custom_field_create(
        object_api_name="guest",
        api_name="pillow",
        label="Pillow",
        type="choice",
        choices=[{"value": "feather", "label": "Feather"}, {"value": "foam", "label": "Foam"}],
        actor=SYSTEM,
    )
    object_definition_create(
        api_name="spa_plan",
        label="Spa plan",
        label_plural="Spa plans",
        module="service",
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="spa_plan", api_name="starts", label="Starts", type="date", actor=SYSTEM
    )


@pytest.fixture
def world(tenant_a):
    """A tenant with one record of every writable object, created through the API."""
    with tenant_context(tenant_a):
        _definitions()
    client = api(tenant_a)
    made = {}

    def make(path, body):
        response = post(client, path, body)
        assert response.status_code == 201, (path, response.content)
        return response.json()["id"]

    made["/api/v1/properties/"] = make(
        "/api/v1/properties/",
        {"code": "LIS1", "name": "Lisbon One", "country": "PT", "currency": "EUR"},
    )
    made["/api/v1/guests/"] = make(
        "/api/v1/guests/",
        {
            "given_name": "Ana",
            "surname": "Silva",
            "emails": ["ana@example.com"],
            "id_document_type": "passport",
            "id_document_number": "P1234567",
            "custom": {"pillow": "foam"},
        },
    )
    made["/api/v1/companies/"] = make("/api/v1/companies/", {"name": "Acme", "country": "PT"})
    made["/api/v1/reservations/"] = make(
        "/api/v1/reservations/",
        {
            "property": made["/api/v1/properties/"],
            "guest": made["/api/v1/guests/"],
            "confirmation_number": "C-1",
            "arrival": "2026-12-01",
            "departure": "2026-12-03",
            "total_amount": "240.00",
            "currency": "EUR",
        },
    )
    made["/api/v1/cases/"] = make("/api/v1/cases/", {"subject": "Noisy room"})
    hotel = made["/api/v1/properties/"]
    made["/api/v1/room-types/"] = make(
        "/api/v1/room-types/",
        {"property": hotel, "code": "dlx", "name": "Deluxe", "capacity": 3, "base_rate": "180"},
    )
    made["/api/v1/rate-plans/"] = make(
        "/api/v1/rate-plans/", {"property": hotel, "code": "BAR", "name": "Best rate"}
    )
    made["/api/v1/objects/spa_plan/records/"] = make(
        "/api/v1/objects/spa_plan/records/", {"name": "Detox", "custom": {"starts": "2027-01-02"}}
    )
    return client, made


def _update_schema(client, path: str) -> dict:
    schema = client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"][f"{path}{{id}}/"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_every_record_read_patches_back_unchanged(world):
    client, made = world
    for path, pk in made.items():
        url = f"{path}{pk}/"
        before = client.get(url)
        assert before.status_code == 200, url
        writable = _update_schema(client, path)["properties"]
        body = {k: v for k, v in before.json().items() if k in writable}
        assert body, f"{path}: nothing of the read is writable"
        after = patch(client, url, body)
        assert after.status_code == 200, (url, after.content)
        assert after.json() == before.json(), url
        # Nothing changed, so the version is the one read.
        assert after["ETag"] == before["ETag"], url


def test_a_stale_if_match_is_a_412_and_changes_nothing(world):
    client, made = world
    url = f"/api/v1/companies/{made['/api/v1/companies/']}/"
    read = client.get(url)
    tag = read["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    # Someone else changes the record after our read.
    assert patch(client, url, {"city": "Porto"}).status_code == 200
    stale = client.patch(
        url, json.dumps({"city": "Faro"}), content_type="application/json", HTTP_IF_MATCH=tag
    )
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["field"] == "If-Match"
    assert client.get(url).json()["city"] == "Porto"
    # With the current version the change goes through and gives a new one.
    fresh = client.get(url)["ETag"]
    ok = client.patch(
        url, json.dumps({"city": "Faro"}), content_type="application/json", HTTP_IF_MATCH=fresh
    )
    assert ok.status_code == 200 and ok.json()["city"] == "Faro"
    assert ok["ETag"] not in (fresh, tag)
    # A stale delete of a tenant-defined record is refused the same way.
    record = f"/api/v1/objects/spa_plan/records/{made['/api/v1/objects/spa_plan/records/']}/"
    old = client.get(record)["ETag"]
    assert patch(client, record, {"name": "Renamed"}).status_code == 200
    assert client.delete(record, HTTP_IF_MATCH=old).status_code == 412
    assert client.get(record).status_code == 200
    assert client.delete(record, HTTP_IF_MATCH=client.get(record)["ETag"]).status_code == 204


def test_versions_change_with_every_stored_column(world):
    client, made = world
    url = f"/api/v1/guests/{made['/api/v1/guests/']}/"
    first = client.get(url)["ETag"]
    assert patch(client, url, {"custom": {"pillow": "feather"}}).status_code == 200
    assert client.get(url)["ETag"] != first


def test_write_schemas_list_what_the_writers_take(tenant_a):
    with tenant_context(tenant_a):
        _definitions()
    schema = api(tenant_a).get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    guest_write = components["GuestWrite"]["properties"]
    for name in ("emails", "phones", "addresses", "external_ids", "custom", "surname"):
        assert name in guest_write, name
    for name in ("email", "phone", "stays", "nights", "revenue", "first_stay", "last_stay"):
        assert name not in guest_write, name
        assert components["Guest"]["properties"][name]["readOnly"] is True
    assert components["GuestWrite"]["additionalProperties"] is False
    assert components["Guest"]["properties"]["custom"]["properties"]["pillow"]["type"] == "string"
    custom_write = guest_write["custom"]
    assert custom_write["additionalProperties"] is False
    assert "pillow" in custom_write["properties"]
    assert components["PropertyWrite"]["required"] == ["code", "name", "country"]
    # A case starts new or open; the rest of the flow is for updates.
    assert components["CaseWrite"]["properties"]["status"]["enum"] == ["new", "open"]
    assert "reopened" in components["CaseUpdate"]["properties"]["status"]["enum"]
    assert "property" not in components["ReservationUpdate"]["properties"]
    # A PMS sets up room types; they stay at their hotel.
    assert "property" in components["RoomTypeWrite"]["required"]
    assert "property" not in components["RoomTypeUpdate"]["properties"]
    # Every operation documents the statuses the API answers.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "patch", "delete"):
                continue
            for code in ("401", "403", "429"):
                assert code in operation["responses"], (path, method, code)
            if "{" in path:
                assert "404" in operation["responses"], (path, method)
    patch_op = schema["paths"]["/api/v1/guests/{id}/"]["patch"]
    assert "412" in patch_op["responses"]
    created = schema["paths"]["/api/v1/guests/"]["post"]["responses"]["201"]
    assert created["links"]["Retrieve"]["operationId"] == "guest_retrieve"


def test_malformed_requests_are_answered_in_the_api_format(tenant_a):
    client = api(tenant_a)
    # An id the route refuses is a JSON 404, not an HTML page.
    missing = client.get("/api/v1/webhooks/endpoints/not-a-number/")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "not_found"
    # A write without a body is a 400 naming the body, not an empty change.
    created = post(client, "/api/v1/companies/", {"name": "Acme"}).json()["id"]
    empty = client.patch(f"/api/v1/companies/{created}/", content_type="application/json")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "body"
    # null where a column cannot be empty is a 400 naming it (it was a 500).
    nulled = patch(client, f"/api/v1/companies/{created}/", {"city": None})
    assert nulled.status_code == 400
    assert nulled.json()["errors"][0]["field"] == "city"
    listed = post(client, "/api/v1/guests/", {"surname": "Li", "phones": None})
    assert listed.status_code == 400
    assert listed.json()["errors"][0]["field"] == "phones"
    # A batch item that is not an object is a malformed request (400 naming it)...
    batch = post(client, "/api/v1/companies/bulk/", {"records": [{"external_id": "A"}, 7]})
    assert batch.status_code == 400
    assert batch.json()["errors"][0]["field"] == "records[1]"
    # ...and a custom part that is not an object is that record's error, not a 500.
    odd = post(
        client, "/api/v1/companies/bulk/", {"records": [{"external_id": "B", "custom": [None]}]}
    )
    assert odd.status_code == 200
    assert odd.json()["results"][0]["status"] == "error"
    # A link to a record that does not exist is a 404 naming the field.
    case = post(client, "/api/v1/cases/", {"subject": "Lost key", "guest": 999999})
    assert case.status_code == 404
    assert case.json()["errors"][0]["field"] == "guest"
    # Cursors are what the API hands out; anything else is a 400 naming the cursor.
    assert client.get("/api/v1/companies/?cursor=o0").status_code == 200
    bad = client.get("/api/v1/companies/?cursor=zzz")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


def test_one_country_list_for_every_door(tenant_a):
    client = api(tenant_a)
    # CLDR's pseudo-regions are not countries anywhere.
    refused = post(client, "/api/v1/companies/", {"name": "Nowhere", "country": "ZZ"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "country"
    with tenant_context(tenant_a):
        from metadata.types import country_codes

        assert "ZZ" not in country_codes() and "EU" not in country_codes()
        assert {"PT", "HK", "TW", "CN"} <= country_codes()


def test_a_pms_sets_up_room_types_and_rate_plans(world, tenant_a):
    client, made = world
    hotel = made["/api/v1/properties/"]
    url = f"/api/v1/room-types/{made['/api/v1/room-types/']}/"
    room = client.get(url).json()
    assert room["code"] == "DLX" and room["currency"] == "EUR" and room["property"] == hotel
    # Names per language, and the rack rate rounded to the currency.
    changed = patch(client, url, {"name_zh_hans": "豪华房", "base_rate": "199.999"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["name_zh_hans"] == "豪华房"
    assert changed.json()["base_rate"] == "200.000"  # a decimal string, never a float
    # A code taken at the hotel is a conflict, named.
    again = post(client, "/api/v1/room-types/", {"property": hotel, "code": "DLX", "name": "Other"})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"
    # A room type stays at its hotel; a bad capacity is named.
    other = post(
        client,
        "/api/v1/properties/",
        {"code": "OPO", "name": "Porto", "country": "PT", "currency": "EUR"},
    )
    assert other.status_code == 201, other.content
    other = other.json()["id"]
    moved = patch(client, url, {"property": other})
    assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "property"
    crowded = patch(client, url, {"capacity": 500})
    assert crowded.status_code == 400 and crowded.json()["errors"][0]["field"] == "capacity"
    # A missing hotel is a 404 naming it.
    nowhere = post(client, "/api/v1/room-types/", {"property": 999999, "code": "X", "name": "X"})
    assert nowhere.status_code == 404 and nowhere.json()["errors"][0]["field"] == "property"
    plan = patch(client, f"/api/v1/rate-plans/{made['/api/v1/rate-plans/']}/", {"name": "Flexible"})
    assert plan.status_code == 200 and plan.json()["name"] == "Flexible"


def test_a_guest_reads_and_writes_its_emails_and_phones_as_lists(world):
    client, made = world
    url = f"/api/v1/guests/{made['/api/v1/guests/']}/"
    guest = client.get(url).json()
    assert guest["emails"] == ["ana@example.com"] and guest["phones"] == []
    # Money is a decimal string with its currency (revenue is kept in the base currency).
    assert guest["revenue"] == "0.00" and guest["revenue_currency"] == "EUR"
    changed = patch(
        client,
        url,
        {"emails": ["work@example.com", "ana@example.com"], "phones": ["+351 912 345 678"]},
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    # The first is the primary one, which the read-only email/phone show.
    assert body["emails"] == ["work@example.com", "ana@example.com"]
    assert body["email"] == "work@example.com"
    assert body["phones"] == ["+351912345678"] and body["phone"] == "+351912345678"
    # The same list again changes nothing; a shorter one removes the rest.
    again = patch(client, url, {"emails": body["emails"]})
    assert again.status_code == 200 and again["ETag"] == changed["ETag"]
    fewer = patch(client, url, {"emails": ["ana@example.com"]}).json()
    assert fewer["emails"] == ["ana@example.com"] and fewer["email"] == "ana@example.com"
    bad = patch(client, url, {"emails": ["not-an-address"]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "emails"
    assert client.get(url).json()["emails"] == ["ana@example.com"]
    # Lists show the same, for a whole page in a bounded number of queries.
    listed = client.get("/api/v1/guests/?limit=100").json()["results"]
    assert any(row["emails"] == ["ana@example.com"] for row in listed)
    # ...and they can be asked for alone (fields=), though not filtered or sorted by.
    sparse = client.get("/api/v1/guests/?fields=surname,emails").json()["results"]
    assert {"id", "surname", "emails"} == set(sparse[0])
    assert client.get("/api/v1/guests/?ordering=emails").status_code == 400


def test_the_api_takes_json_bodies_only(tenant_a):
    client = api(tenant_a)
    form = client.post("/api/v1/users/", {"email": "form@alpha.test", "roles": ""})
    assert form.status_code == 415
    assert form.json()["errors"][0]["code"] == "unsupported_media_type"
    with tenant_context(tenant_a):
        from tenants.users.models import User

        assert not User.objects.filter(email="form@alpha.test").exists()


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 2**70])
def test_whole_numbers_past_64_bits_are_a_400_naming_their_place(tenant_a, number):
    """A job's payload is stored as given and echoed back: a number past 64 bits once
    went into the job and made the answer a 500 (found by the stateful contract run)."""
    client = api(tenant_a)
    body = {"kind": "diagnostic", "payload": {"steps": [1, {"n": number}]}}
    refused = post(client, "/api/v1/jobs/", body)
    assert refused.status_code == 400, refused.content
    error = refused.json()["errors"][0]
    assert error["field"] == "payload.steps[1].n" and "2^63" in error["message"]
    with tenant_context(tenant_a):
        from tenants.jobs.models import Job

        assert not Job.objects.filter(kind="diagnostic").exists()
    # The largest 64-bit numbers themselves are fine.
    fine = post(client, "/api/v1/jobs/", {"kind": "diagnostic", "payload": {"n": 2**63 - 1}})
    assert fine.status_code == 201, fine.content
    assert fine.json()["payload"]["n"] == 2**63 - 1


def test_a_large_number_stored_in_jsonb_is_answered_back(tenant_a):
    """jsonb writes 1e20 as 100000000000000000000, which reads back as an integer past
    64 bits: the job list that echoed it was a 500 (found by the contract run)."""
    client = api(tenant_a)
    made = post(client, "/api/v1/jobs/", {"kind": "diagnostic", "payload": {"n": 1e20}})
    assert made.status_code == 201, made.content

    listed = client.get("/api/v1/jobs/")

    assert listed.status_code == 200, listed.content[:300]
    [job] = [j for j in listed.json()["results"] if j["id"] == made.json()["id"]]
    assert job["payload"]["n"] == 10**20
