"""Workflow tests run the engine in the writing process (ATRIUM_WORKFLOWS_INLINE) and
run on-commit callbacks on demand; the end-to-end test uses a real worker instead."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from metadata.models import OutboxMessage, WorkflowRun
from metadata.services.workflows import workflow_create
from tests.principals import SYSTEM


@pytest.fixture
def inline(settings):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    return settings


@pytest.fixture
def alpha(tenant_a, inline):
    with tenant_context(tenant_a):
        yield tenant_a


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(): ...`` runs what would happen after the transaction commits."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def make_workflow(key: str = "wf", **fields):
    fields.setdefault("name", key.replace("_", " ").title())
    fields.setdefault("trigger", {"type": "record_created"})
    fields.setdefault("object_api_name", "guest")
    fields.setdefault("actor", SYSTEM)
    return workflow_create(key=key, **fields)


def runs_of(workflow) -> list[WorkflowRun]:
    return list(WorkflowRun.objects.filter(workflow=workflow).order_by("pk"))


def outbox() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("pk"))


def staff(email: str, *roles: str):
    """A staff user holding the given roles."""
    from tenants.access.models import Role
    from tenants.access.services import user_roles_set
    from tenants.users.services import user_create

    user, _ = user_create(email=email, actor=SYSTEM)
    if roles:
        user_roles_set(user=user, roles=Role.objects.filter(key__in=roles), actor=SYSTEM)
    return user
