"""The services behind the roles editor and temporary grants: several rights written at
once (only what changed, each change audited), refusals for anyone but an
administrator, and grants that count from the moment they are given until revoked,
each one a new rights version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from metadata.services.definitions import custom_field_create, object_definition_create
from tenants.access.errors import AccessDenied
from tenants.access.models import AuditEvent, FieldPermission, ObjectPermission, Role
from tenants.access.principal import Principal
from tenants.access.services import (
    role_create,
    role_rights_set,
    temporary_grant_create,
    temporary_grant_revoke,
)
from tenants.access.versioning import access_version
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def spa_plan(alpha):
    """A record type of the tenant's own, with one ordinary and one sensitive field."""
    object_definition_create(
        api_name="spa_plan", label="Spa plan", label_plural="Spa plans", module="guests",
        actor=SYSTEM,
    )  # fmt: skip
    custom_field_create(
        object_api_name="spa_plan", api_name="sessions", label="Sessions", type="integer",
        actor=SYSTEM,
    )  # fmt: skip
    custom_field_create(
        object_api_name="spa_plan", api_name="health_notes", label="Health notes", type="text",
        sensitive=True, actor=SYSTEM,
    )  # fmt: skip
    return "spa_plan"


def _admin(make_user) -> Principal:
    return Principal.of(make_user("tenant_admin"))


def test_a_new_record_type_is_granted_to_a_custom_role_and_its_members_work_with_it(
    make_user, spa_plan
):
    admin = _admin(make_user)
    concierge = role_create(key="concierge", name="Concierge", actor=admin)
    member = make_user("concierge")
    # Given: nothing granted yet, the new record type is invisible to the role.
    assert not Principal.of(member).can(spa_plan, "view")

    changed = role_rights_set(
        role=concierge,
        actor=admin,
        objects={spa_plan: (["view", "create", "edit"], "edit")},
        fields={(spa_plan, "health_notes"): "read"},
    )

    assert changed == 2
    member = type(member).objects.get(pk=member.pk)  # a new request's user
    actor = Principal.of(member)
    assert actor.actions(spa_plan) == frozenset({"view", "create", "edit"})
    assert actor.field_level(spa_plan, "sessions") == "edit"
    # The sensitive field opens only as far as its own row says.
    assert actor.field_level(spa_plan, "health_notes") == "read"
    row = ObjectPermission.objects.get(role=concierge, target=spa_plan)
    assert (row.can_view, row.can_create, row.can_edit, row.can_delete) == (
        True,
        True,
        True,
        False,
    )
    audits = AuditEvent.objects.filter(action="permission_change", details__role="concierge")
    assert audits.count() == 2


def test_posting_the_same_rights_again_writes_nothing(make_user, spa_plan):
    admin = _admin(make_user)
    role = role_create(key="night_audit", name="Night audit", actor=admin)
    rights = {spa_plan: (["view"], "read"), "module:service": (["view"], "read")}
    assert role_rights_set(role=role, actor=admin, objects=rights) == 2
    before = AuditEvent.objects.filter(action="permission_change").count()

    assert role_rights_set(role=role, actor=admin, objects=rights) == 0
    assert role_rights_set(
        role=role, actor=admin, fields={(spa_plan, "sessions"): None}
    ) == 0  # fmt: skip

    assert AuditEvent.objects.filter(action="permission_change").count() == before


def test_no_actions_and_hidden_fields_removes_the_row(make_user, spa_plan):
    admin = _admin(make_user)
    role = role_create(key="temp_staff", name="Temporary staff", actor=admin)
    role_rights_set(role=role, actor=admin, objects={spa_plan: (["view"], "read")})
    role_rights_set(role=role, actor=admin, objects={spa_plan: ([], "hidden")})
    assert not ObjectPermission.objects.filter(role=role, target=spa_plan).exists()


@pytest.mark.parametrize("who", ["general_manager", "front_office", "read_only"])
def test_only_an_administrator_changes_rights(make_user, spa_plan, who):
    role = Role.objects.get(key="front_office")
    actor = Principal.of(make_user(who))
    with pytest.raises(AccessDenied):
        role_rights_set(role=role, actor=actor, objects={spa_plan: (["view"], "edit")})
    assert not ObjectPermission.objects.filter(role=role, target=spa_plan).exists()
    assert not FieldPermission.objects.filter(role=role).exists()


def test_the_administrator_role_takes_no_rights(make_user, spa_plan):
    admin = _admin(make_user)
    with pytest.raises(ValidationError):
        role_rights_set(
            role=Role.objects.get(key="tenant_admin"),
            actor=admin,
            objects={spa_plan: (["view"], "read")},
        )


def test_a_grant_counts_at_once_and_stops_when_revoked_each_a_new_version(make_user, spa_plan):
    admin = _admin(make_user)
    clerk = make_user("front_office")
    assert not Principal.of(clerk).can(spa_plan, "view")
    version = access_version()

    grant = temporary_grant_create(
        user=clerk,
        object_api_name=spa_plan,
        action="view",
        expires_at=timezone.now() + timedelta(hours=4),
        reason="Covering the spa desk",
        actor=admin,
    )

    assert access_version() > version
    fresh = type(clerk).objects.get(pk=clerk.pk)
    assert Principal.of(fresh).can(spa_plan, "view")
    assert not Principal.of(fresh).can(spa_plan, "edit")
    audit = AuditEvent.objects.get(action="grant_create", record_id=str(grant.pk))
    assert audit.details["reason"] == "Covering the spa desk"

    version = access_version()
    temporary_grant_revoke(grant=grant, actor=admin)

    assert access_version() > version
    fresh = type(clerk).objects.get(pk=clerk.pk)
    assert not Principal.of(fresh).can(spa_plan, "view")
    assert AuditEvent.objects.filter(action="grant_revoke", record_id=str(grant.pk)).exists()


def test_a_grant_to_a_switched_off_account_is_refused(make_user, spa_plan):
    admin = _admin(make_user)
    gone = make_user("front_office", is_active=False)
    with pytest.raises(ValidationError) as refused:
        temporary_grant_create(
            user=gone,
            object_api_name=spa_plan,
            action="view",
            expires_at=timezone.now() + timedelta(hours=1),
            actor=admin,
        )
    assert "user" in refused.value.message_dict


def test_a_lower_role_cannot_hand_out_grants(make_user, spa_plan):
    manager = Principal.of(make_user("general_manager"))
    clerk = make_user("front_office")
    with pytest.raises(AccessDenied):
        temporary_grant_create(
            user=clerk,
            object_api_name="guest",
            action="delete",
            expires_at=timezone.now() + timedelta(hours=1),
            actor=manager,
        )
    assert not clerk.temporary_grants.exists()


def test_a_role_named_in_chinese_keeps_its_name_in_every_language(make_user, alpha):
    from django.utils import translation

    admin = _admin(make_user)
    with translation.override("zh-hans"):
        role = role_create(key="spa_desk", name="水疗前台", description="水疗接待", actor=admin)
    with translation.override("en"):
        fresh = Role.objects.get(pk=role.pk)
        assert (fresh.name, fresh.description) == ("水疗前台", "水疗接待")
    with translation.override("zh-hans"):
        assert Role.objects.get(pk=role.pk).name == "水疗前台"


def test_built_in_role_descriptions_are_translated_and_the_migration_goes_both_ways(alpha):
    from importlib import import_module

    from django.apps import apps
    from django.utils import translation

    migration = import_module("tenants.access.migrations.0007_seeded_role_descriptions_translated")
    with translation.override("zh-hans"):
        assert Role.objects.get(key="front_office").description == "前台：到店、入住和宾客需求。"
    with translation.override("zh-hant"):
        assert Role.objects.get(key="reservations").description == "訂房部：訂房、更改和取消。"
    # A tenant's own wording survives both directions.
    Role.objects.filter(key="sales").update(description_zh_hans="我们自己的说明")

    migration.empty(apps, None)

    assert Role.objects.get(key="front_office").description_zh_hans is None
    assert Role.objects.get(key="sales").description_zh_hans == "我们自己的说明"

    migration.fill(apps, None)

    assert (
        Role.objects.get(key="front_office").description_zh_hant == "前台：到店、入住和賓客需求。"
    )
    assert Role.objects.get(key="sales").description_zh_hans == "我们自己的说明"
