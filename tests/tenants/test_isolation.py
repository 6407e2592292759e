"""Data of tenant A never appears in tenant B: through the ORM, HTTP, sessions and cache;
unknown hosts get 404."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from crm.models import Guest
from tests.conftest import PUBLIC_DOMAIN, tenant_client

pytestmark = pytest.mark.django_db


def make_guest(tenant, surname="Okonkwo"):
    with tenant_context(tenant):
        return Guest.objects.create(given_name="Ada", surname=surname, email="ada@example.com")


def test_orm_record_of_a_is_invisible_in_b(tenant_a, tenant_b):
    guest = make_guest(tenant_a)

    with tenant_context(tenant_b):
        assert not Guest.objects.filter(surname="Okonkwo").exists()
        assert not Guest.objects.filter(pk=guest.pk).exists()
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).surname == "Okonkwo"


def test_http_record_of_a_is_invisible_in_b(tenant_a, tenant_b):
    make_guest(tenant_a, surname="Zhangwei")

    page_a = tenant_client(tenant_a).get("/guests/?q=Zhangwei")
    page_b = tenant_client(tenant_b).get("/guests/?q=Zhangwei")

    assert page_a.status_code == 200 and b"Zhangwei, Ada" in page_a.content
    assert page_b.status_code == 200 and b"Zhangwei, Ada" not in page_b.content
    assert b"No guests match." in page_b.content


def test_session_of_a_does_not_open_b(tenant_a, tenant_b):
    client = tenant_client(tenant_a)
    assert client.get("/").status_code == 200

    # Same cookie jar, other tenant's host: the session does not exist in B's schema.
    client.defaults["HTTP_HOST"] = "bravo.test"
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_user_of_a_cannot_sign_in_on_b(tenant_b):
    client = tenant_client(tenant_b, login=False)
    response = client.post(
        "/login/", {"username": "admin@alpha.test", "password": "a-Long-test-password-42"}
    )
    assert response.status_code == 200
    assert b"E-mail or password is not right" in response.content


def test_api_reports_the_tenant_of_the_host(tenant_a, tenant_b):
    me_a = tenant_client(tenant_a).get("/api/v1/me/").json()
    me_b = tenant_client(tenant_b).get("/api/v1/me/").json()
    assert me_a["tenant"] == {"slug": "alpha", "name": "Alpha Hotels", "schema": "alpha"}
    assert me_b["tenant"]["schema"] == "bravo"
    assert me_a["email"] == "admin@alpha.test"


def test_unknown_host_gets_404(client):
    response = client.get("/", HTTP_HOST="nobody.test")
    assert response.status_code == 404
    response = client.get("/login/", HTTP_HOST="nobody.test")
    assert response.status_code == 404


def test_template_schema_is_never_served(client):
    from tenants.models import Domain, Tenant

    template = Tenant.objects.get(kind=Tenant.Kind.TEMPLATE)
    Domain.objects.create(domain="template.test", tenant=template, is_primary=True)
    assert client.get("/login/", HTTP_HOST="template.test").status_code == 404


def test_public_site_has_no_tenant_pages(client):
    assert client.get("/", HTTP_HOST=PUBLIC_DOMAIN).status_code == 200
    assert client.get("/guests/", HTTP_HOST=PUBLIC_DOMAIN).status_code == 404
    assert client.get("/login/", HTTP_HOST=PUBLIC_DOMAIN).status_code == 404


def test_cache_keys_are_tenant_scoped(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        cache.set("dashboard", "alpha-data", 60)
    with tenant_context(tenant_b):
        assert cache.get("dashboard") is None
        cache.set("dashboard", "bravo-data", 60)
    with tenant_context(tenant_a):
        assert cache.get("dashboard") == "alpha-data"
    with tenant_context(tenant_b):
        assert cache.get("dashboard") == "bravo-data"
    cache.clear()
