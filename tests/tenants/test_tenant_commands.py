from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists

from tenants.models import Domain, Tenant
from tenants.services.provisioning import tenant_create


@pytest.fixture
def doomed(db):
    return tenant_create(
        name="Doomed Inns",
        slug="doomed",
        domain="doomed.test",
        admin_email="a@doomed.test",
        currency="GBP",
        send_welcome_email=False,
    ).tenant


def test_tenant_delete_requires_confirmation(doomed):
    with pytest.raises(CommandError, match="--confirm doomed"):
        call_command("tenant_delete", "doomed")
    with pytest.raises(CommandError, match="--confirm doomed"):
        call_command("tenant_delete", "doomed", "--confirm", "other")

    assert schema_exists("doomed")
    assert Tenant.objects.filter(slug="doomed").exists()


def test_tenant_delete_drops_schema_and_rows(doomed):
    out = StringIO()
    call_command("tenant_delete", "doomed", "--confirm", "doomed", stdout=out)

    assert "schema doomed dropped" in out.getvalue()
    assert not schema_exists("doomed")
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain="doomed.test").exists()


def test_tenant_delete_unknown_slug(db):
    with pytest.raises(CommandError, match="No hotel group with slug 'nobody'"):
        call_command("tenant_delete", "nobody", "--confirm", "nobody")


def test_tenant_delete_refuses_template(db):
    with pytest.raises(CommandError, match="No hotel group with slug 'tenant-template'"):
        call_command("tenant_delete", "tenant-template", "--confirm", "tenant-template")


def test_tenant_list_shows_hotel_groups_only(db):
    out = StringIO()
    call_command("tenant_list", "--json", stdout=out)

    rows = json.loads(out.getvalue())
    assert [row["slug"] for row in rows] == ["alpha", "bravo"]
    assert rows[1]["base_currency"] == "JPY"
    assert rows[0]["domains"] == ["alpha.test"]

    out = StringIO()
    call_command("tenant_list", stdout=out)
    assert "alpha.test" in out.getvalue() and "tenant_template" not in out.getvalue()
