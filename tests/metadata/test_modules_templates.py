"""Modules on/off, templates export → import (idempotent), language fallback, money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from metadata.currency import money_round
from metadata.definitions import object_snapshot
from metadata.models import FieldDefinition, ObjectDefinition, Record
from metadata.selectors.definitions import label_for, object_describe, objects_list
from metadata.services.definitions import custom_field_create
from metadata.services.modules import (
    ModuleDisabled,
    module_create,
    module_enabled,
    module_require,
    module_set_enabled,
    object_require,
)
from metadata.services.records import record_create
from metadata.services.templates import (
    blueprint_load,
    blueprint_names,
    metadata_export,
    metadata_import,
)
from tenants.errors import ApplicationError
from tenants.models import Tenant
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_modules_switch_off_and_on_keeping_data(tenant_a):
    with tenant_context(tenant_a):
        metadata_import(data=blueprint_load("mice_sales"), dry_run=False, actor=SYSTEM)
        event = record_create(
            object_api_name="event",
            name="Gala",
            data={"property": _property_id(), "starts_on": "2027-05-01", "ends_on": "2027-05-02"},
            actor=SYSTEM,
        )
        assert module_enabled("sales")
        module_set_enabled(key="sales", enabled=False, actor=SYSTEM)
        assert "sales" not in Tenant.objects.get(pk=tenant_a.pk).enabled_modules
        with pytest.raises(ModuleDisabled) as exc:
            object_require("event")
        assert exc.value.status_code == 403 and "sales" in exc.value.message
        assert "event" not in {o["api_name"] for o in objects_list("en")}
        assert Record.objects.filter(pk=event.pk).exists()  # data kept
        module_set_enabled(key="sales", enabled=True, actor=SYSTEM)
        assert object_require("event").api_name == "event"


def test_core_modules_stay_on_and_tenant_modules_switch(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(ApplicationError) as exc:
            module_set_enabled(key="guests", enabled=False, actor=SYSTEM)
        assert exc.value.code == "core_module"
        module_create(
            key="spa", label="Spa", translations={"zh-hans": {"label": "水疗"}}, actor=SYSTEM
        )
        module_require("spa")
        module_set_enabled(key="spa", enabled=False, actor=SYSTEM)
        with pytest.raises(ModuleDisabled):
            module_require("spa")


def _property_id() -> int:
    from tests.crm.factories import make_property

    return make_property().pk


@pytest.mark.parametrize("name", ["supply_chain", "hr_training", "mice_sales"])
def test_shipped_templates_apply_and_reapply_as_no_ops(tenant_a, name):
    assert name in blueprint_names()
    with tenant_context(tenant_a):
        plan = metadata_import(data=blueprint_load(name), dry_run=True, actor=SYSTEM)
        assert plan["summary"]["create"] > 0 and plan["summary"]["conflict"] == 0
        assert not ObjectDefinition.objects.filter(is_builtin=False).exists()  # dry run
        metadata_import(data=blueprint_load(name), dry_run=False, actor=SYSTEM)
        again = metadata_import(data=blueprint_load(name), dry_run=False, actor=SYSTEM)
        assert again["summary"]["create"] == again["summary"]["update"] == 0


def test_export_from_one_tenant_imports_into_another(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        metadata_import(data=blueprint_load("supply_chain"), dry_run=False, actor=SYSTEM)
        custom_field_create(
            object_api_name="guest",
            api_name="tier",
            label="Tier",
            type="choice",
            choices=["gold", "silver"],
            translations={"zh-hans": {"label": "等级"}},
            actor=SYSTEM,
        )
        exported = metadata_export()
    with tenant_context(tenant_b):
        plan = metadata_import(data=exported, dry_run=True, actor=SYSTEM)
        targets = {s["target"]: s["action"] for s in plan["steps"]}
        assert targets["supplier"] == "create" and targets["guest.tier"] == "create"
        metadata_import(data=exported, dry_run=False, actor=SYSTEM)
        assert metadata_export()["fields"] == exported["fields"]
        assert metadata_import(data=exported, dry_run=True, actor=SYSTEM)["summary"][
            "unchanged"
        ] == len(plan["steps"])
        tier = FieldDefinition.objects.get(object__api_name="guest", api_name="tier")
        assert label_for(tier, "label", "zh-hans") == "等级"


def test_import_reports_a_type_conflict_and_refuses(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="tier", label="T", type="text", actor=SYSTEM
        )
        exported = metadata_export()
    with tenant_context(tenant_b):
        custom_field_create(
            object_api_name="guest", api_name="tier", label="T", type="integer", actor=SYSTEM
        )
        plan = metadata_import(data=exported, dry_run=True, actor=SYSTEM)
        assert plan["summary"]["conflict"] == 1
        with pytest.raises(ApplicationError):
            metadata_import(data=exported, dry_run=False, actor=SYSTEM)


def test_labels_fall_back_to_tenant_default_then_english(tenant_a):
    with tenant_context(tenant_a):
        field = custom_field_create(
            object_api_name="guest",
            api_name="tier",
            label="Tier",
            type="choice",
            choices=[{"value": "gold", "labels": {"en": "Gold", "zh-hans": "金卡"}}],
            translations={"zh-hans": {"label": "等级"}},
            actor=SYSTEM,
        )
        assert label_for(field, "label", "zh-hans") == "等级"
        assert label_for(field, "label", "ja") == "Tier"  # default en, then English
        tenant_a.default_language = "zh-hans"
        assert label_for(field, "label", "ja") == "等级"  # the tenant's default first
        described = object_describe("guest", "zh-hans")
        [tier] = [f for f in described["fields"] if f["api_name"] == "tier"]
        assert tier["label"] == "等级" and tier["choices"] == [{"value": "gold", "label": "金卡"}]
        assert object_snapshot("guest").fields["tier"].label_en == "Tier"


@pytest.mark.parametrize(
    "amount, currency, rounded",
    [
        ("10.005", "EUR", Decimal("10.01")),
        ("1234.5", "JPY", Decimal("1235")),
        ("1.2345", "KWD", Decimal("1.235")),
        ("-2.675", "USD", Decimal("-2.68")),
    ],
)
def test_money_rounds_to_the_currency_minor_unit(amount, currency, rounded):
    assert money_round(amount, currency) == rounded
    assert str(money_round(amount, currency)) == str(rounded)
