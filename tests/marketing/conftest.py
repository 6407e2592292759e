"""Fixtures of the marketing tests: tenant alpha (base currency EUR) with the module on."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from metadata.services.modules import module_set_enabled
from tests.principals import SYSTEM


@pytest.fixture
def marketing(tenant_a):
    with tenant_context(tenant_a):
        module_set_enabled(key="marketing", enabled=True, actor=SYSTEM)
        yield tenant_a


@pytest.fixture
def make_user(marketing):
    """A staff user of tenant alpha with the given seeded roles."""
    from tests.access.conftest import _counter  # one numbering of test users

    def make(*role_keys: str):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role
        from tenants.access.services import user_roles_set
        from tests.conftest import PASSWORD

        user = get_user_model().objects.create_user(
            email=f"marketing{next(_counter)}@alpha.test", password=PASSWORD
        )
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make
