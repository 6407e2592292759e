"""Bad input of every shape against the write and list endpoints: never a 500, always
the error shape."""

import itertools

import pytest

from tests.api.test_records_api import api, patch, post

pytestmark = pytest.mark.django_db
BAD = [
    None,
    1,
    "x",
    [],
    [1],
    {"a": 1},
    True,
    1.5,
    "",
    {"custom": []},
    {"custom": "x"},
    {"custom": {"x": 1}},
    {"given_name": 1, "surname": []},
    {"emails": "a"},
    {"emails": [1]},
    {"phones": [{}]},
    {"guests": "x"},
    {"property": "abc"},
    {"guest": [], "property": {}},
    {"arrival": "x", "departure": 5},
    {"status": 7},
    {"name": None},
    {"external_id": []},
    {"code": None, "name": None},
    {"tags": "x"},
    {"vip_level": "high"},
    {"birth_date": "1999-99-99"},
]
PATHS = [
    "/api/v1/guests/",
    "/api/v1/companies/",
    "/api/v1/properties/",
    "/api/v1/reservations/",
    "/api/v1/reservations/ota",
    "/api/v1/metadata/objects/",
    "/api/v1/metadata/objects/guest/fields/",
]


def test_bad_input_never_gets_a_server_error(tenant_a):
    client = api(tenant_a)
    client.raise_request_exception = False
    g = post(client, "/api/v1/guests/", {"given_name": "A", "surname": "B"}).json()["id"]
    fails = []
    for path, body in itertools.product(PATHS, BAD):
        r = post(client, path, body)
        if r.status_code >= 500:
            fails.append(("POST", path, body, r.status_code))
    for body in BAD:
        r = patch(client, f"/api/v1/guests/{g}/", body)
        if r.status_code >= 500:
            fails.append(("PATCH", body, r.status_code))
    for q in [
        "custom.x=1",
        "ordering=",
        "ordering=-",
        "limit=abc",
        "q=%00",
        "surname__in=",
        "id__gt=abc",
        "stays__gte=x",
        "created__lt=notadate",
        "vip_level=abc",
        "birth_date=zz",
    ]:
        r = client.get(f"/api/v1/guests/?{q}")
        if r.status_code >= 500:
            fails.append(("GET", q, r.status_code))
    assert not fails


def test_nul_characters_are_named_not_stored(tenant_a):
    """PostgreSQL text cannot hold NUL; found by schemathesis as a 500 in bulk upserts."""
    client = api(tenant_a)
    cases = [
        (
            "/api/v1/companies/bulk/",
            {"records": [{"external_id": "a\x00b", "name": "X"}]},
            "records[0].external_id",
        ),
        ("/api/v1/guests/", {"given_name": "Mei\x00", "surname": "Chen"}, "given_name"),
        (
            "/api/v1/guests/",
            {"given_name": "Mei", "surname": "Chen", "custom": {"k\x00": 1}},
            "custom.k\x00",
        ),
    ]
    for path, body, field in cases:
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content)
        assert response.json()["errors"][0]["field"] == field
