"""Screens for records of tenant-defined objects: the list (search, filters on custom
fields, sort), the detail page, the form generated from metadata with the services'
messages, deletion with a confirmation, and the API's access rules (role rights,
sensitive fields, module off, unknown and built-in objects)."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from django_tenants.utils import tenant_context

from metadata.models import Record
from metadata.services.definitions import custom_field_create, object_definition_create
from metadata.services.modules import module_create, module_set_enabled
from metadata.services.records import record_create
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.principals import SYSTEM
from tests.ui.test_i18n import compiled  # noqa: F401 - fixture: the compiled catalogues

pytestmark = pytest.mark.django_db


def _supplier(tenant) -> None:
    """A record type "supplier" in the tenant's own module "purchasing"."""
    with tenant_context(tenant):
        module_create(key="purchasing", label="Purchasing", actor=SYSTEM)
        object_definition_create(
            api_name="supplier",
            label="Supplier",
            label_plural="Suppliers",
            module="purchasing",
            translations={"zh-hans": {"label": "供应商", "label_plural": "供应商列表"}},
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="supplier",
            api_name="tier",
            label="Tier",
            type="choice",
            choices=[
                {"value": "gold", "labels": {"en": "Gold", "zh-hans": "金牌"}},
                {"value": "silver", "labels": {"en": "Silver", "zh-hans": "银牌"}},
            ],
            filterable=True,
            section="Terms",
            translations={"zh-hans": {"label": "等级"}},
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="supplier",
            api_name="credit_days",
            label="Credit days",
            type="integer",
            rules={"min_value": 0, "max_value": 120},
            section="Terms",
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="supplier",
            api_name="tax_number",
            label="Tax number",
            type="text",
            sensitive=True,
            actor=SYSTEM,
        )


def _record(tenant, name: str, **data) -> int:
    with tenant_context(tenant):
        return record_create(object_api_name="supplier", name=name, data=data, actor=SYSTEM).pk


def test_list_searches_filters_and_sorts(tenant_a):
    _supplier(tenant_a)
    _record(tenant_a, "Harbour Linen", tier="gold", credit_days=30)
    _record(tenant_a, "Atlas Foods", tier="silver", credit_days=60)
    _record(tenant_a, "Coastal Soap")
    client = tenant_client(tenant_a)

    page = client.get("/records/supplier/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Suppliers</h1>" in text
    assert "Tier" in text and "Credit days" in text and "Gold" in text
    assert text.index("Atlas Foods") < text.index("Coastal Soap") < text.index("Harbour Linen")
    # The navigation lists the tenant's record types.
    assert 'href="/records/supplier/"' in text

    gold = client.get("/records/supplier/", {"custom.tier": "gold"}).content.decode()
    assert "Harbour Linen" in gold and "Atlas Foods" not in gold and "Coastal Soap" not in gold
    assert '<option value="gold" selected>Gold</option>' in gold

    found = client.get("/records/supplier/", {"q": "atlas"}).content.decode()
    assert "Atlas Foods" in found and "Harbour Linen" not in found

    by_days = client.get("/records/supplier/", {"sort": "-custom.credit_days"}).content.decode()
    assert by_days.index("Atlas Foods") < by_days.index("Harbour Linen")

    bad = client.get("/records/supplier/", {"custom.tier": "bronze"})
    assert bad.status_code == 400
    assert escape("Filter value 'bronze' must be one of gold, silver.") in bad.content.decode()


def test_create_shows_the_services_messages_by_field_and_stores_nothing(tenant_a):
    _supplier(tenant_a)
    client = tenant_client(tenant_a)
    form = client.get("/records/supplier/new/").content.decode()
    assert 'name="name"' in form and 'name="custom.tier"' in form
    assert '<option value="silver">Silver</option>' in form
    assert "<legend>Terms</legend>" in form

    bad = client.post(
        "/records/supplier/new/",
        {"name": "Atlas Foods", "custom.tier": "bronze", "custom.credit_days": "200"},
    )
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Tier must be one of gold, silver." in text
    assert 'id="id_custom_tier-error"' in text
    assert 'id="id_custom_credit_days-error"' in text
    assert 'value="Atlas Foods"' in text  # what was typed stays
    with tenant_context(tenant_a):
        assert not Record.objects.filter(object__api_name="supplier").exists()

    made = client.post(
        "/records/supplier/new/",
        {
            "name": "Atlas Foods",
            "external_id": "SUP-1",
            "custom.tier": "gold",
            "custom.credit_days": "45",
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    with tenant_context(tenant_a):
        record = Record.objects.get(object__api_name="supplier")
    assert made["Location"] == f"/records/supplier/{record.pk}/"
    assert record.name == "Atlas Foods" and record.external_id == "SUP-1"
    assert record.data == {"tier": "gold", "credit_days": 45}

    detail = client.get(made["Location"]).content.decode()
    assert "Atlas Foods" in detail and "SUP-1" in detail and "admin@alpha.test" in detail
    assert 'data-field="custom.tier">Gold<' in detail and "Edit" in detail and "Delete" in detail

    twice = client.post("/records/supplier/new/", {"name": "Again", "external_id": "SUP-1"})
    assert twice.status_code == 400
    assert "A supplier with external id SUP-1 already exists." in twice.content.decode()


def test_edit_and_delete_with_confirmation(tenant_a):
    _supplier(tenant_a)
    pk = _record(tenant_a, "Atlas Foods", tier="gold", credit_days=30)
    client = tenant_client(tenant_a)

    form = client.get(f"/records/supplier/{pk}/edit/").content.decode()
    assert 'value="Atlas Foods"' in form and '<option value="gold" selected>Gold</option>' in form

    bad = client.post(f"/records/supplier/{pk}/edit/", {"name": "Atlas", "custom.tier": "x"})
    assert bad.status_code == 400 and 'id="id_custom_tier-error"' in bad.content.decode()
    with tenant_context(tenant_a):
        assert Record.objects.get(pk=pk).name == "Atlas Foods"

    saved = client.post(
        f"/records/supplier/{pk}/edit/",
        {"name": "Atlas Fine Foods", "custom.tier": "silver", "custom.credit_days": "30"},
    )
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        record = Record.objects.get(pk=pk)
        assert record.name == "Atlas Fine Foods" and record.data["tier"] == "silver"

    confirm = client.get(f"/records/supplier/{pk}/delete/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    with tenant_context(tenant_a):
        assert Record.objects.filter(pk=pk).exists()  # asking is not deleting
    deleted = client.post(f"/records/supplier/{pk}/delete/")
    assert deleted.status_code == 302 and deleted["Location"] == "/records/supplier/"
    with tenant_context(tenant_a):
        assert not Record.objects.filter(pk=pk).exists()
    assert client.get(f"/records/supplier/{pk}/").status_code == 404


def test_a_role_without_view_is_refused_and_sensitive_fields_stay_hidden(make_user, alpha):
    _supplier(alpha)
    pk = _record(alpha, "Atlas Foods", tier="gold", tax_number="PT-509")
    clerk = client_for(make_user("front_office"), alpha)  # no right on suppliers
    reader = client_for(make_user("read_only"), alpha)  # views everything, no sensitive
    admin = client_for(make_user("tenant_admin"), alpha)

    refused = clerk.get("/records/supplier/")
    assert refused.status_code == 403
    assert clerk.get(f"/records/supplier/{pk}/").status_code == 403
    assert 'href="/records/supplier/"' not in clerk.get("/").content.decode()

    listing = reader.get("/records/supplier/").content.decode()
    detail = reader.get(f"/records/supplier/{pk}/").content.decode()
    assert "Atlas Foods" in listing and "Atlas Foods" in detail
    assert "PT-509" not in listing and "PT-509" not in detail and "Tax number" not in detail
    assert "Edit" not in detail.split("<main", 1)[1]
    assert reader.get("/records/supplier/new/").status_code == 403
    assert reader.post(f"/records/supplier/{pk}/delete/").status_code == 403
    with tenant_context(alpha):
        assert Record.objects.filter(pk=pk).exists()

    shown = admin.get(f"/records/supplier/{pk}/").content.decode()
    assert 'data-field="custom.tax_number">PT-509<' in shown
    from tenants.access.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="sensitive_read", record_id=str(pk), fields__contains=["tax_number"]
    ).exists()


def test_module_off_unknown_and_built_in_objects(tenant_a):
    _supplier(tenant_a)
    pk = _record(tenant_a, "Atlas Foods")
    client = tenant_client(tenant_a)
    assert client.get("/records/nothing_here/").status_code == 404
    assert client.get("/records/guest/").status_code == 404  # built-ins have their screens
    assert client.get("/records/supplier/999999/").status_code == 404

    with tenant_context(tenant_a):
        module_set_enabled(key="purchasing", enabled=False, actor=SYSTEM)
    off = client.get("/records/supplier/")
    assert off.status_code == 403 and "purchasing module is switched off" in off.content.decode()
    assert client.get(f"/records/supplier/{pk}/").status_code == 403
    assert 'href="/records/supplier/"' not in client.get("/").content.decode()


def test_labels_follow_the_chosen_language(compiled, tenant_a):  # noqa: F811
    _supplier(tenant_a)
    pk = _record(tenant_a, "Atlas Foods", tier="silver")
    client = tenant_client(tenant_a)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/"})

    listing = client.get("/records/supplier/").content.decode()
    assert "<h1>供应商列表</h1>" in listing and "等级" in listing and "银牌" in listing
    assert "<summary>记录</summary>" in listing and ">供应商列表</a>" in listing  # the menu
    assert "名称，A 到 Z" in listing and "没有符合条件的记录。" not in listing
    detail = client.get(f"/records/supplier/{pk}/").content.decode()
    assert "等级" in detail and "银牌" in detail and "外部编号" in detail and "负责人" in detail
    assert '<html lang="zh-hans">' in detail
