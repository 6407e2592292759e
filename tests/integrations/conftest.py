"""Fixtures for the webhook tests: a local receiver, staff with roles, API-key clients,
and a resolver that answers for made-up host names."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from tenants.access.models import Role
from tenants.access.services import user_roles_set
from tenants.integrations.services import api_key_create
from tests.conftest import PASSWORD
from tests.integrations.receiver import receiver_start
from tests.principals import SYSTEM

_counter = itertools.count()


@pytest.fixture
def receiver():
    state, server = receiver_start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def alpha(tenant_a):
    """Run the test inside tenant alpha's schema."""
    with schema_context(tenant_a.schema_name):
        yield tenant_a


@pytest.fixture
def make_user(alpha):
    def make(*role_keys: str, **extra):
        email = extra.pop("email", None) or f"hooks{next(_counter)}@alpha.test"
        user = get_user_model().objects.create_user(email=email, password=PASSWORD, **extra)
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make


def key_client(tenant, user, scopes: list[str]) -> Client:
    """A client authenticated with a new API key of ``user`` narrowed to ``scopes``."""
    with tenant_context(tenant):
        token = api_key_create(name="hooks", user=user, scopes=scopes, actor=SYSTEM).plaintext
    return Client(HTTP_HOST=f"{tenant.slug}.test", HTTP_AUTHORIZATION=f"Bearer {token}")


def session_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


@dataclass
class FakeResolver:
    """``names[host]`` is a list of addresses, or a callable returning one (to change
    the answer between calls, as DNS rebinding does). Other hosts resolve for real, so
    the database, Redis and the local receiver keep working."""

    real: Callable
    names: dict[str, list[str] | Callable[[], list[str]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.names:
            return self.real(host, port, family, type, proto, flags)
        if flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.calls.append(name)
        answer = self.names[name]
        addresses = answer() if callable(answer) else answer
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 0, 0, 0) if ":" in a else (a, port or 0),
            )
            for a in addresses
        ]


@pytest.fixture
def resolver(monkeypatch) -> FakeResolver:
    fake = FakeResolver(real=socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake
