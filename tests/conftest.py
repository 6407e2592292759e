"""Shared fixtures. The test database is migrated once (public schema and the template
schema); every tenant used by the tests is *cloned* from the template, never migrated."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tenants.services.provisioning import (
    platform_tenant_ensure,
    tenant_create,
    tenant_template_ensure,
)

PUBLIC_DOMAIN = "atrium.test"
PASSWORD = "a-Long-test-password-42"


def pytest_configure(config):
    """With pytest-xdist the embedded PostgreSQL is started by the controlling process,
    before its workers race to start it, and stopped by it when the run ends."""
    import os

    parallel = getattr(config.option, "numprocesses", None)
    if parallel and not hasattr(config, "workerinput") and not os.environ.get("DATABASE_URL"):
        from saas import embedded

        embedded.embedded_database_start(None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        platform_tenant_ensure(domain=PUBLIC_DOMAIN)
        tenant_template_ensure()
        for slug, name, currency in (
            ("alpha", "Alpha Hotels", "EUR"),
            ("bravo", "Bravo Resorts", "JPY"),
        ):
            result = tenant_create(
                name=name,
                slug=slug,
                domain=f"{slug}.test",
                admin_email=f"admin@{slug}.test",
                currency=currency,
                languages=["en", "zh-hans"],
                timezone="Asia/Tokyo" if currency == "JPY" else "Europe/Paris",
                status="active",
                send_welcome_email=False,
            )
            with schema_context(result.tenant.schema_name):
                from tenants.users.services import user_password_set

                user_password_set(email=result.admin_email, password=PASSWORD)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a browser test that served a page
    in Chinese must not make the next test's factories store names in Chinese only (a
    translated field is written in the active language)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _no_rate_limit_counts():
    """Rate-limit counters (sign-up, password reset, API keys) live in the cache, which
    is Redis with CACHE_URL and outlives a test and even a test run; the test client
    always comes from 127.0.0.1, so every test starts with no counts."""
    cache.clear()


@pytest.fixture(autouse=True)
def _no_cached_tenant_rows():
    """Each test's writes roll back, but a process cache filled inside a test would keep
    rows that were never committed (a tenant's modules, a host's tenant row)."""
    from tenants.middleware import tenant_hosts_forget

    tenant_hosts_forget()
    yield
    tenant_hosts_forget()


@pytest.fixture
def tenant_a(django_db_setup, django_db_blocker) -> Tenant:
    with django_db_blocker.unblock():
        return Tenant.objects.get(slug="alpha")


@pytest.fixture
def tenant_b(django_db_setup, django_db_blocker) -> Tenant:
    with django_db_blocker.unblock():
        return Tenant.objects.get(slug="bravo")


def tenant_client(tenant: Tenant, *, login: bool = True) -> Client:
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    if login:
        response = client.post(
            "/login/", {"username": f"admin@{tenant.slug}.test", "password": PASSWORD}
        )
        assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def celery_worker_process(django_db_setup):
    """A real Celery worker on the test database; yields the lines it prints."""
    from tests.celery_worker import worker_start, worker_stop

    proc, lines = worker_start()
    yield lines
    worker_stop(proc)


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on a free local port, Django's SMTP backend pointed
    at it; yields its inbox."""
    from tests.workflows.smtp import smtp_server

    controller, inbox = smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()
