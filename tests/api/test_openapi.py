"""OpenAPI 3 per tenant: the committed base snapshot, the tenant's own fields and objects
in its schema, the human pages, and a bounded schemathesis run against the live app."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections
from django_tenants.utils import tenant_context
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as engine_events

from metadata.services.definitions import custom_field_create, object_definition_create
from saas.management.commands.api_schema_snapshot import SNAPSHOT, base_schema_text
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.api.test_records_api import api, post
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

# Examples per operation; `SCHEMATHESIS_EXAMPLES=50 make test` digs deeper.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))


def tenant_definitions() -> None:
    custom_field_create(
        object_api_name="guest",
        api_name="pillow_type",
        label="Pillow type",
        type="choice",
        choices=[{"value": "feather", "label": "Feather"}, {"value": "foam", "label": "Foam"}],
        filterable=True,
        translations={"zh-hans": {"label": "枕头类型"}},
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="guest",
        api_name="visits_planned",
        label="Visits",
        type="integer",
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="guest", api_name="spa_budget", label="Spa", type="money", actor=SYSTEM
    )
    object_definition_create(
        api_name="wellness_plan",
        label="Wellness plan",
        label_plural="Plans",
        module="service",
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="wellness_plan",
        api_name="sessions",
        label="Sessions",
        type="integer",
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="wellness_plan",
        api_name="starts",
        label="Starts",
        type="date",
        actor=SYSTEM,
    )


def loyalty_definitions() -> None:
    """The loyalty module on, with a member holding points and a reward, so its routes
    are in the tenant's schema and answer with records."""
    from crm.loyalty.services.ledger import points_adjust
    from crm.loyalty.services.members import member_enrol
    from crm.loyalty.services.redemptions import redemption_reserve, reward_create
    from metadata.services.modules import module_set_enabled
    from tests.crm.factories import make_guest

    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    member = member_enrol(guest=make_guest(surname="Schema"), actor=SYSTEM)
    points_adjust(member=member, points=5000, reason="schemathesis", actor=SYSTEM)
    reward = reward_create(key="schema-night", name="Night", points=100, actor=SYSTEM)
    redemption_reserve(member=member, reward=reward, actor=SYSTEM)


def test_base_schema_matches_the_committed_snapshot(tenant_a):
    with tenant_context(tenant_a):
        text = base_schema_text()
    if os.environ.get("UPDATE_API_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.read_text() == text, (
        "The API changed: review the difference, then rewrite the snapshot with "
        "UPDATE_API_SNAPSHOT=1 (or the api_schema_snapshot command)."
    )


def test_tenant_schema_holds_its_own_fields_and_objects(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        tenant_definitions()
    response = api(tenant_a).get("/api/v1/schema/?format=json")
    assert response.status_code == 200, response.content[:300]
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    custom = schema["components"]["schemas"]["Guest"]["properties"]["custom"]["properties"]
    assert custom["pillow_type"]["enum"] == ["feather", "foam", None]
    assert custom["visits_planned"]["type"] == "integer"
    assert custom["spa_budget"]["type"] == "object"
    assert "/api/v1/objects/wellness_plan/records/" in schema["paths"]
    assert "delete" in schema["paths"]["/api/v1/objects/wellness_plan/records/{id}/"]
    assert "/api/v1/guests/bulk/" in schema["paths"]
    assert "/api/v1/webhooks/endpoints/" in schema["paths"]
    assert "/api/v1/metadata/objects/{api_name}/fields/" in schema["paths"]
    # Another hotel group's schema knows nothing of them.
    other = api(tenant_b).get("/api/v1/schema/?format=json").json()
    assert (
        "pillow_type"
        not in other["components"]["schemas"]["Guest"]["properties"]["custom"]["properties"]
    )
    assert "/api/v1/objects/wellness_plan/records/" not in other["paths"]


def test_schema_needs_authentication(tenant_a):
    response = tenant_client(tenant_a, login=False).get("/api/v1/schema/")
    assert response.status_code in (401, 403)


def test_swagger_and_redoc_pages_use_installed_assets(tenant_a):
    client = tenant_client(tenant_a)
    swagger = client.get("/api/v1/docs/")
    assert swagger.status_code == 200
    assert b"drf_spectacular_sidecar/swagger-ui-dist" in swagger.content
    redoc = client.get("/api/v1/redoc/")
    assert redoc.status_code == 200
    assert b"drf_spectacular_sidecar/redoc" in redoc.content
    assert b"cdn." not in swagger.content + redoc.content


# The contract's checks (schemathesis names), all of them on every operation...
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# ...but for these, whose bodies carry rules a JSON Schema cannot state, a body that
# matches the schema may still be refused (a 400 naming the rule): for them the run does
# not expect schema-valid data to be accepted. Every other check runs on them.
RULES_BEYOND_SCHEMA = {
    ("POST", "/api/v1/workflows/"): "the workflow language: triggers, conditions, actions",
    ("PATCH", "/api/v1/workflows/{ref}/"): "the workflow language",
    ("POST", "/api/v1/workflows/templates/{name}/import/"): "an existing template's name",
    ("POST", "/api/v1/workflows/{ref}/run/"): "filters in the list syntax over real fields",
    ("POST", "/api/v1/webhooks/endpoints/"): "a URL whose host resolves to a public address",
    ("PATCH", "/api/v1/webhooks/endpoints/{id}/"): "a URL whose host resolves publicly",
    ("POST", "/api/v1/users/"): "roles and hotels that exist; an e-mail not yet taken",
    ("PATCH", "/api/v1/users/{id}/"): "roles and hotels that exist",
    ("POST", "/api/v1/roles/"): "a key not yet taken; objects and fields that exist",
    ("PATCH", "/api/v1/roles/{key}/"): "objects and fields that exist",
    ("DELETE", "/api/v1/roles/{key}/"): "built-in roles and roles in use stay",
    ("POST", "/api/v1/grants/"): "an active user, an object that exists, a future end",
    ("POST", "/api/v1/metadata/objects/"): "an api name not yet taken, a module that exists",
    ("POST", "/api/v1/metadata/objects/{api_name}/fields/"): "type rules and choices",
    ("PATCH", "/api/v1/metadata/objects/{api_name}/fields/{field}/"): "type rules",
    (
        "POST",
        "/api/v1/metadata/objects/{api_name}/fields/{field}/type-change/",
    ): "which type changes convert",
    ("POST", "/api/v1/activities/"): "a record of an object that exists",
    ("GET", "/api/v1/activities/"): "an object that exists",
    ("POST", "/api/v1/jobs/"): "each kind's own payload",
}


def _seed(client) -> None:
    """A few records of every object, so generated ids and links meet real rows."""
    for i in range(3):
        hotel = post(
            client,
            "/api/v1/properties/",
            {"code": f"H{i}", "name": f"Hotel {i}", "country": "PT", "currency": "EUR"},
        ).json()["id"]
        guest = post(client, "/api/v1/guests/", {"surname": f"Guest {i}"}).json()["id"]
        post(client, "/api/v1/companies/", {"name": f"Company {i}"})
        post(client, "/api/v1/cases/", {"subject": f"Case {i}"})
        post(client, "/api/v1/objects/wellness_plan/records/", {"name": f"Plan {i}"})
        stay = {
            "property": hotel,
            "guest": guest,
            "confirmation_number": f"R{i}",
            "arrival": "2026-12-01",
            "departure": "2026-12-02",
            "total_amount": "10.00",
            "currency": "EUR",
        }
        assert post(client, "/api/v1/reservations/", stay).status_code == 201


def _failures(stream) -> tuple[list[str], Counter]:
    failures: list[str] = []
    statuses: Counter = Counter()
    for event in stream:
        if isinstance(event, engine_events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info:
                        failure = check.failure_info.failure
                        failures.append(
                            f"[{event.phase}] {event.recorder.label} {check.name}: "
                            f"{failure.title} {getattr(failure, 'message', '')}"[:1500]
                        )
        elif isinstance(event, engine_events.NonFatalError | engine_events.FatalError):
            failures.append(f"error: {event}"[:1500])
    return sorted(set(failures)), statuses


def test_schemathesis_contract_checks_pass_in_every_phase(tenant_a):
    """Every operation of a tenant with custom fields, a custom object and seeded
    records, through schemathesis' coverage, fuzzing and stateful phases with the
    contract's checks: no server error, only documented statuses, media types and
    bodies, invalid requests refused, valid ones accepted (RULES_BEYOND_SCHEMA aside)."""
    with tenant_context(tenant_a):
        tenant_definitions()
        user = User.objects.get(email="admin@alpha.test")
        token = api_key_create(name="schemathesis", user=user, scopes=["*"], actor=SYSTEM).plaintext
    client = api(tenant_a)
    _seed(client)
    raw = client.get("/api/v1/schema/?format=json").json()
    # Phone numbers are checked for real (libphonenumber): the run draws valid ones.
    schemathesis.openapi.format(
        "phone", st.sampled_from(["+85221234567", "+351912345678", "+14155552671"])
    )
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
    config = SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "headers": {"Host": "alpha.test"},
            "auth": {"openapi": {"apiKey": {"bearer": token}}},
            "generation": {"max-examples": EXAMPLES, "mode": "all"},
            "phases": {"examples": {"enabled": False}},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                "positive_data_acceptance": {"enabled": True, "expected-statuses": accepted},
            },
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                }
                for method, path in RULES_BEYOND_SCHEMA
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(raw, config=config)
    # schemathesis calls the app from its worker threads; they share this test's
    # connection (its transaction holds the tenant's data), one request at a time.
    shared = connections["default"]
    wsgi = get_wsgi_application()

    def app(environ, start_response):
        connections["default"] = shared
        return wsgi(environ, start_response)

    schema.app = app
    shared.inc_thread_sharing()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        failures, statuses = _failures(from_schema(schema).execute())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        shared.dec_thread_sharing()
    # The run reached the application: records read and written, bad input refused.
    assert statuses[200] and statuses[201] and statuses[400], statuses
    assert sum(statuses.values()) > 1000, statuses
    assert not failures, "\n\n".join(failures[:15])


def test_no_two_serializers_share_a_component_name(tenant_a):
    """drf-spectacular keeps one of two components with the same name (it only warns), so
    an operation would be documented with another's body: segment members were once
    described as loyalty members, and schemathesis found answers that broke it."""
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    with tenant_context(tenant_a):
        base_schema_text()
    collisions = [w for w in GENERATOR_STATS._warn_cache if "identical names" in w]
    assert not collisions, collisions
