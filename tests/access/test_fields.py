"""Field-level access: an allowlist; sensitive fields hidden unless granted; temporary
grants show a field until they expire (time moved by patching timezone.now)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Guest
from tenants.access import policy, registry
from tenants.access.models import AuditEvent, Role
from tenants.access.principal import Principal
from tenants.access.services import (
    role_create,
    role_field_permission_set,
    role_object_permission_set,
    temporary_grant_create,
    temporary_grant_revoke,
    temporary_grants_expire,
)
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

RECORD = {
    "id": 7,
    "given_name": "Mei",
    "surname": "Chen",
    "identity_number": "E12345678",
    "birth_date": "1990-02-03",
    "custom": {"pillow": "firm", "identity_number": "E12345678"},
}


def fresh(user):
    policy.invalidate(user)
    return user


def test_front_office_never_gets_the_identity_number(make_user):
    clerk = make_user("front_office")

    masked = policy.record_mask(clerk, "guest", RECORD)

    assert masked == {
        "id": 7,
        "given_name": "Mei",
        "surname": "Chen",
        "custom": {"pillow": "firm"},
    }
    assert policy.field_level(clerk, "guest", "identity_number") == "hidden"
    assert "identity_number" not in policy.field_access(clerk, "guest", fields=RECORD)
    assert not AuditEvent.objects.filter(action="sensitive_read").exists()


def test_tenant_admin_sees_sensitive_fields_and_the_read_is_audited(make_user):
    admin = make_user("tenant_admin")

    masked = policy.record_mask(admin, "guest", RECORD)

    assert masked == RECORD
    event = AuditEvent.objects.get(action="sensitive_read")
    assert (event.actor_id, event.object_api_name, event.record_id) == (admin.pk, "guest", "7")
    assert event.fields == ["birth_date", "identity_number"]


def test_field_allowlist_defaults_and_overrides(make_user, alpha):
    role = role_create(key="night_audit", name="Night audit", actor=SYSTEM)
    role_object_permission_set(
        role=role, target="guest", actions=["view"], field_default="hidden", actor=SYSTEM
    )
    role_field_permission_set(
        role=role,
        object_api_name="guest",
        field_api_name="surname",
        access="read",
        actor=SYSTEM,
    )
    user = make_user("night_audit")

    assert policy.record_mask(user, "guest", RECORD) == {"id": 7, "surname": "Chen", "custom": {}}

    role_object_permission_set(
        role=role, target="guest", actions=["view"], field_default="read", actor=SYSTEM
    )
    role_field_permission_set(
        role=role,
        object_api_name="guest",
        field_api_name="given_name",
        access="hidden",
        actor=SYSTEM,
    )
    fresh(user)
    assert policy.record_mask(user, "guest", RECORD) == {
        "id": 7,
        "surname": "Chen",
        "custom": {"pillow": "firm"},
    }
    # Read-only role: "edit" is capped to read without the edit action.
    role_field_permission_set(
        role=role,
        object_api_name="guest",
        field_api_name="surname",
        access="edit",
        actor=SYSTEM,
    )
    fresh(user)
    assert policy.field_level(user, "guest", "surname") == "read"
    changes = AuditEvent.objects.filter(action="permission_change", details__role="night_audit")
    assert changes.count() == 5


def test_explicit_field_permission_opens_a_sensitive_field(make_user):
    role = Role.objects.get(key="front_office")
    role_field_permission_set(
        role=role,
        object_api_name="guest",
        field_api_name="birth_date",
        access="read",
        actor=SYSTEM,
    )
    clerk = make_user("front_office")

    masked = policy.record_mask(clerk, "guest", RECORD)

    assert masked["birth_date"] == "1990-02-03"
    assert "identity_number" not in masked


def test_registered_sensitive_field_is_hidden_by_the_default(make_user):
    registry.sensitive_field_register("guest", "vip_notes")
    manager = make_user("general_manager")

    masked = policy.record_mask(manager, "guest", {"id": 1, "vip_notes": "x", "email": "a@b.c"})

    assert masked == {"id": 1, "email": "a@b.c"}


def test_catalogue_provider_declares_sensitive_custom_fields(make_user):
    def provider():
        # What metadata would return from its field definitions in this schema.
        yield registry.ObjectSpec(
            api_name="guest",
            fields=frozenset({"pillow", "medical_note"}),
            sensitive_fields=frozenset({"medical_note"}),
        )

    registry.catalogue_provider_register(provider)
    try:
        manager = make_user("general_manager")
        data = {"id": 2, "custom": {"pillow": "soft", "medical_note": "allergy"}}
        assert policy.record_mask(manager, "guest", data) == {
            "id": 2,
            "custom": {"pillow": "soft"},
        }
        assert policy.field_access(manager, "guest")["pillow"] == "edit"
        assert "medical_note" not in policy.field_access(manager, "guest")
    finally:
        registry.catalogue_provider_unregister(provider)


def test_write_of_a_field_without_edit_is_refused(make_user):
    marketer = make_user("marketing")

    with pytest.raises(policy.AccessDenied) as info:
        policy.fields_require_editable(marketer, "segment", ["name", "identity_number"])

    assert info.value.field == "identity_number"
    # The marketing module registers segments with their label.
    assert info.value.message == "You may not change the field identity_number of Segment records."
    policy.fields_require_editable(marketer, "segment", ["name"])


def test_temporary_grant_shows_identity_number_until_it_expires(make_user, alpha):
    admin = make_user("tenant_admin")
    clerk = make_user("front_office")
    now = timezone.now()

    grant = temporary_grant_create(
        user=clerk,
        object_api_name="guest",
        field_api_name="identity_number",
        field_access="read",
        expires_at=now + timedelta(hours=2),
        reason="Police registration",
        actor=Principal.of(admin),
    )

    assert policy.record_mask(clerk, "guest", RECORD)["identity_number"] == "E12345678"
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=1)):
        assert "identity_number" in policy.record_mask(clerk, "guest", RECORD)
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=2)):
        assert "identity_number" not in policy.record_mask(clerk, "guest", RECORD)
        # The beat task records the expiry once.
        assert temporary_grants_expire() == 1
        assert temporary_grants_expire() == 0
    # A new request (fresh user object) does not see it either.
    fresh(clerk)
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=3)):
        assert "identity_number" not in policy.record_mask(clerk, "guest", RECORD)

    created = AuditEvent.objects.get(action="grant_create")
    assert created.actor_id == admin.pk and created.record_id == str(grant.pk)
    assert created.details["reason"] == "Police registration"
    assert created.details["field"] == "identity_number"
    expired = AuditEvent.objects.get(action="grant_expire")
    assert expired.record_id == str(grant.pk) and expired.actor is None
    # Sensitive reads while the grant was active were logged, the later ones were not.
    assert AuditEvent.objects.filter(action="sensitive_read", actor=clerk).count() == 2


@pytest.mark.urls("tests.access.urls")
def test_front_office_through_the_api_with_a_temporary_grant(make_user, alpha):
    guest = Guest.objects.create(
        given_name="Mei", surname="Chen", custom={"identity_number": "E1", "pillow": "firm"}
    )
    clerk = make_user("front_office")
    client = client_for(clerk, alpha)

    def api_guest():
        rows = client.get("/api/v1/test-records/guest/").json()["results"]
        return next(r for r in rows if r["id"] == guest.pk)

    def me_fields():
        return client.get("/api/v1/access/me/").json()["objects"]["guest"]["fields"]

    assert api_guest()["custom"] == {"pillow": "firm"}
    assert "identity_number" not in me_fields()

    now = timezone.now()
    temporary_grant_create(
        user=clerk,
        object_api_name="guest",
        field_api_name="identity_number",
        field_access="read",
        expires_at=now + timedelta(minutes=30),
        actor=SYSTEM,
    )
    assert api_guest()["custom"] == {"pillow": "firm", "identity_number": "E1"}
    assert me_fields()["identity_number"] == "read"

    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(minutes=31)):
        assert api_guest()["custom"] == {"pillow": "firm"}
        assert "identity_number" not in me_fields()


def test_temporary_object_grant(make_user):
    marketer = make_user("marketing")
    assert not policy.object_allowed(marketer, "case", "view")

    grant = temporary_grant_create(
        user=marketer,
        object_api_name="case",
        action="view",
        expires_at=timezone.now() + timedelta(days=1),
        actor=SYSTEM,
    )
    assert policy.object_allowed(marketer, "case", "view")
    assert not policy.object_allowed(marketer, "case", "edit")

    temporary_grant_revoke(grant=grant, actor=SYSTEM)
    assert not policy.object_allowed(marketer, "case", "view")
    assert AuditEvent.objects.filter(action="grant_revoke", record_id=str(grant.pk)).exists()


def test_future_grant_starts_by_itself(make_user):
    clerk = make_user("front_office")
    now = timezone.now()
    temporary_grant_create(
        user=clerk,
        object_api_name="reservation",
        action="delete",
        starts_at=now + timedelta(hours=1),
        expires_at=now + timedelta(hours=3),
        actor=SYSTEM,
    )
    assert not policy.object_allowed(clerk, "reservation", "delete")
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=2)):
        assert policy.object_allowed(clerk, "reservation", "delete")


def test_grants_are_validated(make_user):
    clerk = make_user("front_office")
    now = timezone.now()
    with pytest.raises(ValidationError) as info:
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            action="view",
            expires_at=now - timedelta(1),
            actor=SYSTEM,
        )
    assert info.value.message_dict == {"expires_at": ["The grant must end in the future."]}
    with pytest.raises(ValidationError) as info:
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            action="view",
            field_api_name="identity_number",
            field_access="read",
            expires_at=now + timedelta(1),
            actor=SYSTEM,
        )
    assert "action" in info.value.message_dict


def test_nobody_hands_out_what_they_do_not_hold(make_user):
    manager = make_user("general_manager")
    clerk = make_user("front_office")
    # The general manager may not even give grants (administration object)...
    with pytest.raises(policy.AccessDenied):
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            action="delete",
            expires_at=timezone.now() + timedelta(hours=1),
            actor=Principal.of(manager),
        )
    # ...and with the right to give grants still not what they lack themselves.
    role = role_create(key="grantor", name="Grantor", actor=SYSTEM)
    role_object_permission_set(
        role=role, target="temporary_grant", actions=["view", "create"], actor=SYSTEM
    )
    grantor = make_user("general_manager", "grantor")
    with pytest.raises(policy.AccessDenied):
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            action="delete",
            expires_at=timezone.now() + timedelta(hours=1),
            actor=Principal.of(grantor),
        )
    with pytest.raises(ValidationError):
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            field_api_name="identity_number",
            field_access="read",
            expires_at=timezone.now() + timedelta(hours=1),
            actor=Principal.of(grantor),
        )
    grant = temporary_grant_create(
        user=clerk,
        object_api_name="guest",
        action="export",
        expires_at=timezone.now() + timedelta(hours=1),
        actor=Principal.of(grantor),
    )
    assert grant.granted_by == grantor


def test_provider_output_is_cached_within_a_block(make_user):
    calls = []

    def provider():
        calls.append(1)
        return [registry.ObjectSpec(api_name="guest", sensitive_fields=frozenset({"secret"}))]

    registry.catalogue_provider_register(provider)
    try:
        manager = make_user("general_manager")
        with registry.catalogue_cached():
            for _ in range(3):
                assert "secret" not in policy.record_mask(manager, "guest", {"id": 1, "secret": 1})
        assert len(calls) == 1
    finally:
        registry.catalogue_provider_unregister(provider)
