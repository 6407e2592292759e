"""Every seeded role over every core object and action: through the policy, through
an API resource using the DRF permission class (403 with a clear message and no data
when refused), and as reported by /api/v1/access/me/."""

from __future__ import annotations

import json

import pytest

from tenants.access import policy, registry
from tests.access.conftest import SEEDED_ROLES, client_for

pytestmark = pytest.mark.django_db

OBJECTS = ["guest", "company", "reservation", "property", "case"]
ACTIONS = ["view", "create", "edit", "delete", "export"]

# What each built-in role may do (v c e d x = view create edit delete export).
EXPECTED = {
    "tenant_admin": dict.fromkeys(OBJECTS, "vcedx"),
    "general_manager": {
        "guest": "vcex", "company": "vcex", "reservation": "vcex", "property": "vex",
        "case": "vcex",
    },
    "front_office": {
        "guest": "vce", "company": "v", "reservation": "vce", "property": "v", "case": "vce",
    },
    "reservations": {
        "guest": "vce", "company": "v", "reservation": "vcedx", "property": "v", "case": "v",
    },
    "sales": {
        "guest": "v", "company": "vcedx", "reservation": "v", "property": "v", "case": "v",
    },
    "marketing": {
        "guest": "vx", "company": "v", "reservation": "v", "property": "v", "case": "",
    },
    "service_agent": {
        "guest": "ve", "company": "v", "reservation": "v", "property": "v", "case": "vcex",
    },
    "read_only": dict.fromkeys(OBJECTS, "v"),
}  # fmt: skip


def allowed(role, obj, action) -> bool:
    letters = EXPECTED[role][obj]
    return {"view": "v", "create": "c", "edit": "e", "delete": "d", "export": "x"}[
        action
    ] in letters


def test_the_matrix_covers_every_seeded_role():
    assert sorted(EXPECTED) == sorted(SEEDED_ROLES)


@pytest.mark.parametrize("role", SEEDED_ROLES)
def test_policy_answers_match_the_matrix(make_user, role):
    user = make_user(role)
    answers = {
        (obj, action): policy.object_allowed(user, obj, action)
        for obj in OBJECTS
        for action in ACTIONS
    }
    assert answers == {(o, a): allowed(role, o, a) for o in OBJECTS for a in ACTIONS}


@pytest.mark.parametrize("role", SEEDED_ROLES)
def test_object_require_raises_a_clear_permission_denied(make_user, role):
    user = make_user(role)
    for obj in OBJECTS:
        for action in ACTIONS:
            if allowed(role, obj, action):
                policy.object_require(user, obj, action)
            else:
                with pytest.raises(policy.AccessDenied) as info:
                    policy.object_require(user, obj, action)
                assert info.value.code == "permission_denied"
                assert info.value.status_code == 403
                assert info.value.message == (
                    f"Your roles do not allow you to {action} {obj} records."
                )


def _call(client, obj: str, action: str):
    url = f"/api/v1/test-records/{obj}/"
    if action == "view":
        return client.get(url)
    if action == "export":
        return client.get(url, {"export": "1"})
    if action == "create":
        return client.post(url, data=json.dumps({"name": "x"}), content_type="application/json")
    if action == "edit":
        return client.patch(url, data=json.dumps({"name": "y"}), content_type="application/json")
    return client.delete(url)


@pytest.mark.urls("tests.access.urls")
@pytest.mark.parametrize("role", SEEDED_ROLES)
def test_api_answers_match_the_matrix(make_user, alpha, role):
    client = client_for(make_user(role), alpha)
    for obj in OBJECTS:
        for action in ACTIONS:
            response = _call(client, obj, action)
            body = response.json() if response.content else {}
            if allowed(role, obj, action):
                assert response.status_code in (200, 201, 204), (obj, action, body)
            else:
                assert response.status_code == 403, (obj, action, body)
                assert body == {
                    "errors": [
                        {
                            "field": None,
                            "code": "permission_denied",
                            "message": f"Your roles do not allow you to {action} {obj} records.",
                        }
                    ]
                }


@pytest.fixture
def core_objects():
    # The CRM declares its objects in AppConfig.ready(); the access layer lists the
    # declared ones (no module given here, so the CRM's own declaration decides it).
    for name in OBJECTS:
        registry.object_register(name)


@pytest.mark.parametrize("role", SEEDED_ROLES)
def test_me_endpoint_reports_the_matrix(make_user, alpha, core_objects, role):
    client = client_for(make_user(role), alpha)

    body = client.get("/api/v1/access/me/").json()

    assert body["roles"] == [role]
    assert body["is_tenant_admin"] is (role == "tenant_admin")
    reported = {obj: body["objects"].get(obj, {}).get("actions", []) for obj in OBJECTS}
    assert reported == {obj: [a for a in ACTIONS if allowed(role, obj, a)] for obj in OBJECTS}


def test_a_user_without_roles_may_do_nothing(make_user):
    user = make_user()
    assert not any(policy.object_allowed(user, o, a) for o in OBJECTS for a in ACTIONS)
    assert policy.field_access(user, "guest", fields=["surname"]) == {}


def test_roles_add_up(make_user):
    user = make_user("sales", "marketing")
    assert policy.object_actions(user, "guest") == {"view", "export"}
    assert policy.object_actions(user, "company") == {"view", "create", "edit", "delete", "export"}


def test_star_does_not_open_administration(make_user):
    reader = make_user("read_only")
    assert policy.object_allowed(reader, "some_custom_object", "view")
    assert not policy.object_allowed(reader, "audit_event", "view")
    assert not policy.object_allowed(reader, "role", "view")
