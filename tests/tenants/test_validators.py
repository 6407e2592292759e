from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenants import validators
from tenants.models import Tenant


@pytest.mark.parametrize("code", ["EUR", "usd", "JPY", "KWD", "CNY", "HKD"])
def test_currencies_in_use_are_accepted(code):
    assert validators.validate_currency(code) == code.upper()


@pytest.mark.parametrize("code", ["EURO", "XYZ", "DEM", "", "12A"])
def test_unknown_or_retired_currencies_are_refused(code):
    with pytest.raises(ValidationError):
        validators.validate_currency(code)


def test_languages_come_from_the_superset():
    assert validators.validate_language("ZH-Hant") == "zh-hant"
    with pytest.raises(ValidationError, match="not a supported language"):
        validators.validate_language("tlh")


def test_timezones_are_iana():
    assert validators.validate_timezone("Asia/Shanghai") == "Asia/Shanghai"
    with pytest.raises(ValidationError, match="IANA"):
        validators.validate_timezone("CEST")


@pytest.mark.parametrize("slug", ["ab", "-abc", "abc-", "a--b", "Ab c", "1abc", "x" * 41])
def test_bad_slugs(slug):
    with pytest.raises(ValidationError):
        validators.validate_slug(slug)


def test_tenant_clean_collects_errors_per_field():
    tenant = Tenant(
        name="X",
        slug="x-group",
        schema_name="x_group",
        base_currency="EUX",
        enabled_languages=["en", "xx"],
        default_language="en",
        timezone="Nowhere",
        enabled_modules=["guests", "warp"],
    )
    with pytest.raises(ValidationError) as excinfo:
        tenant.clean()
    assert set(excinfo.value.message_dict) == {
        "base_currency",
        "enabled_languages",
        "timezone",
        "enabled_modules",
    }


def test_tenant_clean_keeps_base_currency_and_default_language_enabled():
    tenant = Tenant(
        name="X",
        slug="x-group",
        schema_name="x_group",
        base_currency="jpy",
        enabled_currencies=["usd"],
        default_language="ja",
        enabled_languages=["en"],
        timezone="Asia/Tokyo",
        enabled_modules=["guests"],
    )
    tenant.clean()
    assert tenant.enabled_currencies == ["JPY", "USD"]
    assert tenant.enabled_languages == ["ja", "en"]
