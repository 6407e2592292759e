"""Consent hook for marketing sends; API-key scopes narrowing a user's rights."""

from __future__ import annotations

import pytest

from tenants.access import consent, policy, registry
from tenants.access.errors import ConsentMissing
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def opted_in():
    # What crm registers: its consent records answer; here guest 1 opted in to e-mail.
    ledger = {(1, "email", "marketing")}

    def checker(*, subject_id, channel, purpose):
        return (subject_id, channel, purpose) in ledger

    # crm's own checker is put back afterwards: later tests send real marketing.
    crm_checker = consent.consent_checker("guest")
    consent.consent_checker_register("guest", checker)
    yield
    if crm_checker is None:
        consent.consent_checker_unregister("guest")
    else:
        consent.consent_checker_register("guest", crm_checker)


def test_marketing_send_needs_the_matching_opt_in(opted_in):
    consent.consent_require(subject_id=1, channel="email")
    assert consent.marketing_allowed(subject_id=1, channel="email")
    assert not consent.marketing_allowed(subject_id=1, channel="sms")

    with pytest.raises(ConsentMissing) as info:
        consent.consent_require(subject_id=1, channel="sms")
    assert info.value.code == "consent_missing"
    assert info.value.message == "guest 1 has not opted in to marketing messages by sms."
    with pytest.raises(ConsentMissing):
        consent.consent_require(subject_id=2, channel="email")


def test_without_a_checker_nothing_is_sent():
    assert not consent.marketing_allowed(subject_type="member", subject_id=1, channel="email")
    with pytest.raises(ConsentMissing) as info:
        consent.consent_require(subject_type="member", subject_id=1, channel="email")
    assert "No consent checker is registered for member" in info.value.message


@pytest.fixture
def gadget():
    registry.object_register("access_test_gadget", module="access_test", fields=["name"])
    yield "access_test_gadget"
    registry._objects.pop("access_test_gadget", None)


def test_scopes_narrow_but_never_widen(make_user, gadget, alpha):
    from tenants.access.models import Role
    from tenants.access.services import role_object_permission_set

    role_object_permission_set(
        role=Role.objects.get(key="marketing"),
        target="module:access_test",
        actions=["view", "create", "edit", "export"],
        field_default="edit",
        actor=SYSTEM,
    )
    marketer = make_user("marketing")

    assert policy.object_allowed(marketer, gadget, "edit")
    assert policy.object_allowed(marketer, gadget, "view", scopes={"access_test:read"})
    assert policy.object_allowed(marketer, gadget, "export", scopes={"access_test:read"})
    assert not policy.object_allowed(marketer, gadget, "edit", scopes={"access_test:read"})
    assert policy.object_allowed(marketer, gadget, "edit", scopes={"access_test:write"})
    assert policy.object_allowed(marketer, gadget, "view", scopes={f"{gadget}:write"})
    assert not policy.object_allowed(marketer, gadget, "view", scopes={"guests:write"})
    assert not policy.object_allowed(marketer, gadget, "view", scopes=set())
    # A write scope does not give what the role lacks.
    assert not policy.object_allowed(marketer, gadget, "delete", scopes={"*:write"})

    assert policy.field_access(marketer, gadget, scopes={"access_test:read"}) == {"name": "read"}
    assert policy.field_access(marketer, gadget, scopes={"access_test:write"}) == {"name": "edit"}
    assert policy.field_access(marketer, gadget, scopes={"other:write"}) == {}

    with pytest.raises(policy.AccessDenied) as info:
        policy.object_require(marketer, gadget, "create", scopes={"access_test:read"})
    assert info.value.message == (
        "This API key's scopes do not allow create on access_test_gadget "
        "(it needs the access_test:write scope)."
    )
    assert policy.module_allowed(marketer, "access_test")
    assert not policy.module_allowed(marketer, "access_test", scopes={"guests:read"})


def test_request_scopes_come_from_the_api_key():
    class Key:
        scopes = ["guests:read"]

    class Request:
        auth = Key()

    class SessionRequest:
        auth = None

    assert policy.request_scopes(Request()) == frozenset({"guests:read"})
    assert policy.request_scopes(SessionRequest()) is None
