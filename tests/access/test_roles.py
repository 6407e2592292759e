"""Roles: seeded in every tenant (the template schema is cloned), custom roles, who may
change them, and the audit trail of changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from tenants.access import policy
from tenants.access.models import AuditEvent, Role, TemporaryGrant
from tenants.access.principal import Principal
from tenants.access.services import (
    role_create,
    role_delete,
    role_object_permission_set,
    user_roles_set,
)
from tenants.access.tasks import temporary_grants_expire, temporary_grants_expire_everywhere
from tests.access.conftest import SEEDED_ROLES
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_every_tenant_has_the_seeded_roles(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            assert sorted(Role.objects.filter(is_system=True).values_list("key", flat=True)) == (
                sorted(SEEDED_ROLES)
            )
            assert Role.objects.get(key="tenant_admin").grants_everything


def test_role_names_are_translated(alpha):
    role = Role.objects.get(key="front_office")
    with translation.override("zh-hans"):
        assert role.name == "前台"
    with translation.override("en"):
        assert role.name == "Front office"


def test_custom_role_with_module_and_star_rows(make_user, alpha):
    role = role_create(key="auditor", name="Auditor", actor=SYSTEM)
    role_object_permission_set(
        role=role, target="*", actions=["view"], field_default="read", actor=SYSTEM
    )
    role_object_permission_set(
        role=role, target="case", actions=[], field_default="hidden", actor=SYSTEM
    )
    user = make_user("auditor")

    assert policy.object_allowed(user, "guest", "view")
    assert policy.object_allowed(user, "case", "view")  # removing the row falls back to *
    role_object_permission_set(role=role, target="case", actions=["export"], actor=SYSTEM)
    policy.invalidate(user)
    assert not policy.object_allowed(user, "case", "view")
    assert policy.object_allowed(user, "case", "export")
    assert AuditEvent.objects.filter(action="role_create", details__key="auditor").exists()


def test_only_people_allowed_to_edit_roles_change_them(make_user, alpha):
    manager = make_user("general_manager")
    admin = make_user("tenant_admin")
    target = make_user()

    with pytest.raises(policy.AccessDenied):
        user_roles_set(
            user=target, roles=Role.objects.filter(key="tenant_admin"), actor=Principal.of(manager)
        )
    with pytest.raises(policy.AccessDenied):
        role_create(key="x", name="X", actor=Principal.of(manager))

    keys = user_roles_set(
        user=target,
        roles=Role.objects.filter(key__in=["sales", "marketing"]),
        actor=Principal.of(admin),
    )
    assert keys == ["marketing", "sales"]
    event = AuditEvent.objects.get(action="role_assign", record_id=str(target.pk))
    assert event.actor == admin
    assert event.details == {"user": target.email, "before": [], "after": ["marketing", "sales"]}


def test_built_in_roles_cannot_be_deleted(alpha):
    with pytest.raises(ValidationError) as info:
        role_delete(role=Role.objects.get(key="read_only"), actor=SYSTEM)
    assert info.value.message_dict == {
        "role": ["read_only is a built-in role and cannot be deleted."]
    }
    custom = role_create(key="temp", name="Temp", actor=SYSTEM)
    role_delete(role=custom, actor=SYSTEM)
    assert not Role.objects.filter(key="temp").exists()


def test_unknown_actions_are_rejected(alpha):
    role = role_create(key="odd", name="Odd", actor=SYSTEM)
    with pytest.raises(ValidationError) as info:
        role_object_permission_set(
            role=role, target="guest", actions=["view", "approve"], actor=SYSTEM
        )
    assert "approve: not an action" in info.value.message_dict["actions"][0]


def test_one_administrator_rule_is_the_role_never_the_flags(make_user):
    """is_staff / is_superuser grant nothing by themselves; the tenant_admin role does,
    and holding it sets the is_staff flag for display."""
    assert not policy.is_tenant_admin(make_user(is_staff=True))
    assert not policy.is_tenant_admin(make_user(is_staff=True, is_superuser=True))
    assert not policy.is_tenant_admin(make_user("general_manager"))
    admin = make_user("tenant_admin")
    assert policy.is_tenant_admin(admin) and admin.is_staff


def test_expiry_task_logs_once_and_purges_after_retention(make_user, settings):
    clerk = make_user("front_office")
    now = timezone.now()
    recent = TemporaryGrant.objects.create(
        user=clerk,
        object_api_name="guest",
        action="export",
        starts_at=now - timedelta(days=2),
        expires_at=now - timedelta(days=1),
    )
    ancient = TemporaryGrant.objects.create(
        user=clerk,
        object_api_name="guest",
        action="export",
        starts_at=now - timedelta(days=500),
        expires_at=now - timedelta(days=400),
        expiry_logged=True,
    )
    settings.ATRIUM_ACCESS_GRANT_RETENTION_DAYS = 365

    assert temporary_grants_expire() == 1
    assert temporary_grants_expire() == 0

    assert AuditEvent.objects.get(action="grant_expire").record_id == str(recent.pk)
    assert TemporaryGrant.objects.filter(pk=recent.pk, expiry_logged=True).exists()
    assert not TemporaryGrant.objects.filter(pk=ancient.pk).exists()


def test_beat_entry_point_expires_grants_in_every_tenant(make_user, alpha, tenant_b):
    from saas.celery import app

    clerk = make_user("front_office")
    now = timezone.now()
    grant = TemporaryGrant.objects.create(
        user=clerk,
        object_api_name="guest",
        field_api_name="identity_number",
        field_access="read",
        starts_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )
    assert settings_schedule()["task"] == "tenants.access.tasks.temporary_grants_expire_everywhere"

    app.conf.task_always_eager = True
    try:
        fanned_out = temporary_grants_expire_everywhere()
    finally:
        app.conf.task_always_eager = False

    from tenants.selectors import tenants_for_background_work

    assert fanned_out == tenants_for_background_work().count() >= 2  # alpha, bravo, ...
    with schema_context(alpha.schema_name):
        assert AuditEvent.objects.get(action="grant_expire").record_id == str(grant.pk)
    with schema_context(tenant_b.schema_name):
        assert not AuditEvent.objects.filter(action="grant_expire").exists()


def settings_schedule():
    from django.conf import settings

    return settings.CELERY_BEAT_SCHEDULE["expire-temporary-grants"]
