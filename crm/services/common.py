"""Small rules shared by the crm services: contact data normalisation, codes, money."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from metadata.events import json_plain
from metadata.types import country_codes
from tenants.context import current_schema
from tenants.validators import validate_currency

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def country_clean(value: str, *, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if code and code not in country_codes():
        raise ValidationError({field: f"{value} is not an ISO 3166 country code (e.g. PT)."})
    return code


def currency_clean(value: str, *, field: str = "currency") -> str:
    try:
        return validate_currency(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def language_clean(value: str, *, field: str = "language") -> str:
    code = (value or "").strip().lower().replace("_", "-")
    if code and not LANGUAGE_RE.fullmatch(code):
        raise ValidationError({field: f"{value} is not a language code (e.g. en, zh-hant)."})
    return code


def email_clean(value: str, *, field: str = "email") -> str:
    address = (value or "").strip()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError({field: f"{value} is not a valid e-mail address."}) from exc
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone_clean(value: str, *, region: str | None = None, field: str = "phone") -> str:
    """E.164 form of a phone number; numbers without +country use ``region``."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            {field: f"{value} is not a phone number (use +country code, e.g. +351...)."}
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError({field: f"{value} is not a possible phone number."})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def money_round(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round to the currency's minor unit (0 for JPY, 2 for EUR, 3 for KWD)."""
    exponent = Decimal(1).scaleb(-get_currency_precision(currency))
    return Decimal(str(amount)).quantize(exponent, rounding=ROUND_HALF_UP)


def tenant_base_currency() -> str:
    """Base currency of the tenant whose schema the connection uses."""
    tenant = getattr(connection, "tenant", None)
    code = getattr(tenant, "base_currency", None)
    if code:
        return code
    from tenants.models import Tenant

    found = (
        Tenant.objects.filter(schema_name=current_schema())
        .values_list("base_currency", flat=True)
        .first()
    )
    return found or "EUR"


# The value as plain JSON types (dates as ISO strings, decimals as strings).
json_safe = json_plain
