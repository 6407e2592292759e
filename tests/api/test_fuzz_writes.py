"""Fuzzing every write door of the API with hypothesis: bodies built from each door's
real keys (and some it does not know) holding hostile values -- text where numbers go,
NaN and 1e30, numbers past bigint, lone surrogates, NUL, 100k-character strings, deep
nesting, wrong JSON types. Whatever comes in, the answer is never a server error.

The known attack inputs are explicit examples, so they run on every build; generated
examples explore around them (``FUZZ_EXAMPLES`` raises the count for a nightly run)."""

from __future__ import annotations

import json
import os

import hypothesis
import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

HOSTILE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, -(2**63) - 1, 2**70, 0, -1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            "abc",
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "1e30",
            "1e-30",
            "2020-13-45",
            "yesterday",
            "99999999999999999999999",
            "\x00",
            "a\x00b",
            "\ud800",
            '=HYPERLINK("http://x","y")',
            "x" * 100_000,
            "<script>alert(1)</script>",
            "../../etc/passwd",
        ]
    ),
    st.text(max_size=40),
)
HOSTILE = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep(depth: int):
    value: object = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value


WRITE_KEYS = {
    "guest": [
        "given_name", "surname", "birth_date", "vip_level", "nationality", "language", "tags",
        "emails", "phones", "addresses", "external_ids", "custom", "id_document_number",
        "gender", "customer_type",
    ],
    "company": ["name", "external_id", "kind", "email", "phone", "country", "custom"],
    "reservation": [
        "property", "guest", "guests", "confirmation_number", "arrival", "departure",
        "total_amount", "currency", "status", "adults", "children", "room_type", "rate_plan",
        "booker_guest", "booker_company", "custom",
    ],
    "case": ["subject", "guest", "reservation", "property", "owner", "deadline", "priority",
             "status", "custom"],
    "property": ["code", "name", "country", "currency", "timezone", "star_rating", "custom"],
    "record": ["name", "external_id", "owner_id", "custom"],
    "field": ["api_name", "label", "type", "choices", "rules", "filterable", "default"],
    "user": ["email", "full_name", "roles", "property_ids"],
    "workflow": ["key", "name", "object", "trigger", "conditions", "actions", "enabled"],
    "consent": ["channel", "purpose", "opted_in", "source", "recorded_at"],
    "preference": ["group", "code", "note", "property"],
    "email": ["email", "kind", "primary"],
    "phone": ["number", "kind", "primary"],
    "address": ["kind", "line1", "line2", "city", "region", "postal_code", "country", "primary"],
    "erase": ["confirm", "reason"],
    "folio": ["kind", "amount", "currency", "posted_on", "description"],
    "payment": ["method", "amount", "currency", "reference", "received_at"],
    "status": ["action", "reason"],
}  # fmt: skip


def bodies(keys: list[str]):
    known = st.dictionaries(st.sampled_from(keys), HOSTILE, max_size=6)
    unknown = st.dictionaries(st.text(max_size=12), HOSTILE, max_size=3)
    return st.one_of(known, st.builds(lambda a, b: {**b, **a}, known, unknown), HOSTILE)


@pytest.fixture
def door(tenant_a):
    """An admin's full key and ids to write at (so PATCH reaches its service)."""
    from metadata.services.definitions import custom_field_create, object_definition_create
    from metadata.services.records import record_create

    with tenant_context(tenant_a):
        admin = User.objects.get(email="admin@alpha.test")
        token = api_key_create(name="fuzz", user=admin, scopes=["*"], actor=SYSTEM).plaintext
        hotel = make_property(code="FZ1")
        guest = make_guest()
        stay = make_reservation(property=hotel, guest=guest)
        object_definition_create(
            api_name="fz_thing", label="Thing", label_plural="Things", module="guests",
            actor=SYSTEM,
        )  # fmt: skip
        custom_field_create(
            object_api_name="fz_thing", api_name="size", label="Size", type="integer",
            actor=SYSTEM,
        )  # fmt: skip
        custom_field_create(
            object_api_name="guest", api_name="fz_hobbies", label="Hobbies", type="multi_choice",
            choices=[{"value": "golf", "label": "Golf"}], actor=SYSTEM,
        )  # fmt: skip
        thing = record_create(object_api_name="fz_thing", name="T", data={}, actor=SYSTEM)
    client = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.raise_request_exception = False
    return client, {"guest": guest.pk, "stay": stay.pk, "hotel": hotel.pk, "thing": thing.pk}


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _send(client: Client, method: str, path: str, body) -> int:
    try:
        payload = json.dumps(body)
    except (ValueError, TypeError):  # a body JSON cannot carry is not a request
        return 0
    response = getattr(client, method)(path, payload, content_type="application/json")
    assert response.status_code < 500, (method, path, str(body)[:300], response.content[:300])
    return response.status_code


def _targets(ids: dict) -> list[tuple[str, str, str]]:
    return [
        ("post", "/api/v1/guests/", "guest"),
        ("patch", f"/api/v1/guests/{ids['guest']}/", "guest"),
        ("post", "/api/v1/companies/", "company"),
        ("post", "/api/v1/reservations/", "reservation"),
        ("patch", f"/api/v1/reservations/{ids['stay']}/", "reservation"),
        ("post", "/api/v1/cases/", "case"),
        ("post", "/api/v1/properties/", "property"),
        ("patch", f"/api/v1/properties/{ids['hotel']}/", "property"),
        ("post", "/api/v1/objects/fz_thing/records/", "record"),
        ("patch", f"/api/v1/objects/fz_thing/records/{ids['thing']}/", "record"),
        ("post", "/api/v1/metadata/objects/guest/fields/", "field"),
        ("post", "/api/v1/users/", "user"),
        ("post", "/api/v1/workflows/", "workflow"),
    ]


KNOWN_ATTACKS = [
    {"surname": "B", "birth_date": "yesterday"},
    {"surname": "x" * 100_000},
    {"surname": "\ud800"},
    {"total_amount": "NaN", "property": 1},
    {"total_amount": "1e30"},
    {"owner_id": "abc"},
    {"name": 5},
    {"owner_id": 2**70},
    {"arrival": "2026-01-02", "booker_guest": None, "booker_company": None, "guest": None},
    {"custom": _deep(60)},
    {"emails": "a", "phones": [{}], "guests": "x"},
]


def test_no_write_door_answers_a_server_error(door):
    client, ids = door
    for method, path, kind in _targets(ids):
        for attack in KNOWN_ATTACKS:
            _send(client, method, path, attack)

        _fuzz(client, method, path, kind)


def test_guest_lists_privacy_and_folio_doors_never_answer_a_server_error(door):
    """The doors of a guest's lists, the erasure and a reservation's folio, payments and
    status actions (erasing the guest on the way only makes later erasures a 409)."""
    client, ids = door
    guest, stay = f"/api/v1/guests/{ids['guest']}", f"/api/v1/reservations/{ids['stay']}"
    for path, kind in (
        (f"{guest}/consents/", "consent"),
        (f"{guest}/preferences/", "preference"),
        (f"{guest}/emails/", "email"),
        (f"{guest}/phones/", "phone"),
        (f"{guest}/addresses/", "address"),
        (f"{stay}/folio/", "folio"),
        (f"{stay}/payments/", "payment"),
        (f"{stay}/status/", "status"),
        (f"{guest}/erase/", "erase"),
    ):
        for attack in KNOWN_ATTACKS:
            _send(client, "post", path, attack)
        _fuzz(client, "post", path, kind)


def _fuzz(client: Client, method: str, path: str, kind: str) -> None:
    @SETTINGS
    @given(body=bodies(WRITE_KEYS[kind]))
    def fuzz(body):
        _send(client, method, path, body)

    fuzz()


def test_bulk_and_ota_never_answer_a_server_error(door):
    from tests.api.test_ota_push import PAYLOAD

    client, _ids = door
    for attack in ({"records": "x"}, {"records": [None, 1, "a"]}, {"records": [{}] * 1001}):
        _send(client, "post", "/api/v1/guests/bulk/", attack)

    @SETTINGS
    @given(records=st.lists(bodies(WRITE_KEYS["guest"] + ["external_id"]), max_size=5))
    def bulk(records):
        _send(client, "post", "/api/v1/guests/bulk/", {"records": records})

    bulk()

    def mutate(path, value):
        body = json.loads(json.dumps(PAYLOAD))
        target = body["HotelReservations"][0]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return body

    places = [
        ("RoomStays", 0, "GuestCounts", 0, "Count"),
        ("RoomStays", 0, "Total", "AmountAfterTax"),
        ("RoomStays", 0, "TimeSpan", "Start"),
        ("RoomStays", 0, "BasicPropertyInfo"),
        ("ResGuests", 0, "Profiles", 0, "Customer", "PersonName"),
        ("ResGuests", 0, "Profiles", 0, "Customer", "Email"),
        ("UniqueID",),
        ("ResStatus",),
    ]

    @SETTINGS
    @given(where=st.sampled_from(places), value=HOSTILE)
    def ota(where, value):
        _send(client, "post", "/api/v1/reservations/ota", mutate(where, value))

    ota()


def test_list_filters_never_answer_a_server_error(door):
    client, _ids = door

    @SETTINGS
    @given(
        name=st.sampled_from(["surname", "birth_date", "vip_level", "id", "custom.fz_hobbies"]),
        op=st.sampled_from(["", "__gte", "__in", "__contains", "__isnull", "__bogus"]),
        value=st.text(max_size=30) | st.sampled_from(["NaN", "1e30", "2**70", "chess", "\x00"]),
    )
    def listing(name, op, value):
        response = client.get("/api/v1/guests/", {f"{name}{op}": value, "ordering": name})
        assert response.status_code < 500, (name, op, value, response.content[:300])

    listing()
