"""Fixtures for access tests: users of tenant alpha holding seeded roles."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from tenants.access.models import Role
from tenants.access.services import user_roles_set
from tests.conftest import PASSWORD
from tests.principals import SYSTEM

SEEDED_ROLES = [
    "tenant_admin",
    "general_manager",
    "front_office",
    "reservations",
    "sales",
    "marketing",
    "service_agent",
    "read_only",
]

_counter = itertools.count()


@pytest.fixture
def alpha(tenant_a):
    """Run the test inside tenant alpha's schema."""
    with schema_context(tenant_a.schema_name):
        yield tenant_a


@pytest.fixture
def make_user(alpha):
    def make(*role_keys: str, email: str | None = None, **extra):
        email = email or f"staff{next(_counter)}@alpha.test"
        user = get_user_model().objects.create_user(email=email, password=PASSWORD, **extra)
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        # A fresh object, as a new request would load it.
        return get_user_model().objects.get(pk=user.pk)

    return make


def client_for(user, tenant) -> Client:
    """A client signed in as ``user`` through the real /login/ view."""
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client
