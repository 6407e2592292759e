"""OpenAPI 3 per tenant: the committed base snapshot, the tenant's own fields and objects
in its schema, the human pages, and a bounded schemathesis run against the live app."""

from __future__ import annotations

import os
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error, response_schema_conformance

from metadata.services.definitions import custom_field_create, object_definition_create
from saas.management.commands.api_schema_snapshot import SNAPSHOT, base_schema_text
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.api.test_records_api import api
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

# Examples per operation; `SCHEMATHESIS_EXAMPLES=50 make test` digs deeper.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))


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


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tenant_a):
    """Every operation of a tenant with custom fields and a custom object, fed generated
    requests (valid and invalid); each answer must be < 500 and match the schema."""
    with tenant_context(tenant_a):
        tenant_definitions()
        loyalty_definitions()
        user = User.objects.get(email="admin@alpha.test")
        token = api_key_create(name="schemathesis", user=user, scopes=["*"], actor=SYSTEM).plaintext
    raw = api(tenant_a).get("/api/v1/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    headers = {"Host": "alpha.test", "Authorization": f"Bearer {token}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )

    def checker(operation):
        @settings
        @hypothesis.given(case=operation.as_strategy())
        def check(case):
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        return check

    # As Django's test client does: requests must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            try:
                checker(operation)()
            except Exception as exc:  # every operation runs; all failures are reported
                failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:3000])
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert operations > 40
    # The run reached the application: records were read and written, bad input refused.
    assert statuses[200] and statuses[201] and statuses[400], statuses
    assert not failures, "\n\n".join(failures[:10])
