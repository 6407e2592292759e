"""Field types: how a value of each type is checked and coerced to its stored JSON form.

One coercer per type; every entry point (API, UI forms, imports, workflows) reaches them
through ``metadata.services.values.custom_values_clean``. A coercer raises
``FieldValueError`` whose message names the rule that failed; the caller adds the field.

Stored forms are chosen so that an expression index and a plain comparison agree:
numbers as JSON strings of their exact decimal (cast with ``::numeric``), dates as
``YYYY-MM-DD`` and date-times as UTC ``YYYY-MM-DDTHH:MM:SSZ`` (text order is time order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from metadata.currency import money_round
from metadata.definitions import record_exists
from metadata.models import FieldType
from tenants.context import current_tenant


class FieldValueError(Exception):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


TEXT_MAX = 255
LONG_TEXT_MAX = 100_000
NUMERIC_TYPES = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.PERCENT, FieldType.REFERENCE}
TEXT_TYPES = {FieldType.TEXT, FieldType.LONG_TEXT}
DECIMAL_LIMIT = Decimal("1e15")
# YYYY-MM-DD only (Python also reads 20260101 and week dates, which no one means here).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@cache
def country_codes() -> frozenset[str]:
    from babel import Locale

    # CLDR also names pseudo-regions (unknown, European Union, UN...), not countries.
    pseudo = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(c for c in codes if re.fullmatch(r"[A-Z]{2}", c) and c not in pseudo)


@cache
def language_codes() -> frozenset[str]:
    from babel import Locale

    codes = {str(code).lower().replace("_", "-") for code in Locale("en").languages}
    return frozenset(codes | {code for code, _ in settings.LANGUAGES})


def _length(field, value: str, default_max: int) -> str:
    rules = field.rules or {}
    max_length = int(rules.get("max_length") or default_max)
    min_length = int(rules.get("min_length") or 0)
    if len(value) > max_length:
        raise FieldValueError(f"is longer than {max_length} characters.", "max_length")
    if len(value) < min_length:
        raise FieldValueError(f"is shorter than {min_length} characters.", "min_length")
    pattern = rules.get("regex")
    if pattern and value and not re.fullmatch(pattern, value):
        raise FieldValueError(f"does not match the pattern {pattern}.", "regex")
    return value


def _text(field, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError("must be text.", "type")
    return _length(field, value.strip(), TEXT_MAX)


def _long_text(field, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError("must be text.", "type")
    return _length(field, value, LONG_TEXT_MAX)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise FieldValueError("must be a number.", "type")
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | float) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise FieldValueError("must be a number.", "type")
    if abs(number) >= DECIMAL_LIMIT:
        raise FieldValueError("is too large.", "max_value")
    return number


def _bounds(field, number: Decimal) -> Decimal:
    rules = field.rules or {}
    if rules.get("min_value") is not None and number < Decimal(str(rules["min_value"])):
        raise FieldValueError(f"must be at least {rules['min_value']}.", "min_value")
    if rules.get("max_value") is not None and number > Decimal(str(rules["max_value"])):
        raise FieldValueError(f"must be at most {rules['max_value']}.", "max_value")
    return number


def _integer(field, value: Any) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise FieldValueError("must be a whole number.", "type")
    return int(_bounds(field, number))


def _decimal_field(field, value: Any) -> str:
    number = _bounds(field, _decimal(value))
    places = (field.rules or {}).get("decimal_places")
    if places is not None:
        quantum = Decimal(1).scaleb(-int(places))
        if number != number.quantize(quantum):
            raise FieldValueError(f"allows at most {places} decimal places.", "decimal_places")
        number = number.quantize(quantum)
    return format(number.normalize() if places is None else number, "f")


def _percent(field, value: Any) -> str:
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
    return format(_bounds(field, _decimal(value)).normalize(), "f")


def _money(field, value: Any) -> dict:
    tenant = current_tenant()
    if isinstance(value, dict):
        unknown = set(value) - {"amount", "currency"}
        if unknown:
            raise FieldValueError(f"has unknown parts: {', '.join(sorted(unknown))}.", "type")
        amount, currency = value.get("amount"), value.get("currency")
    else:
        amount, currency = value, None
    if amount is None:
        raise FieldValueError("needs an amount.", "required")
    currency = (currency or getattr(tenant, "base_currency", "") or "").upper()
    enabled = list(getattr(tenant, "enabled_currencies", None) or [currency])
    if currency not in enabled:
        raise FieldValueError(
            f"currency {currency or '(none)'} is not enabled; use one of {', '.join(enabled)}.",
            "currency",
        )
    number = _bounds(field, _decimal(amount))
    return {"amount": format(money_round(number, currency), "f"), "currency": currency}


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _boolean(field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FieldValueError("must be true or false.", "type")


def _date(field, value: Any) -> str:
    if isinstance(value, datetime):
        raise FieldValueError("must be a date without a time.", "type")
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            if not ISO_DATE.fullmatch(value.strip()):
                raise ValueError(value)
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise FieldValueError("must be a date as YYYY-MM-DD.", "type") from None
    else:
        raise FieldValueError("must be a date as YYYY-MM-DD.", "type")
    rules = field.rules or {}
    if rules.get("min_value") and parsed.isoformat() < str(rules["min_value"]):
        raise FieldValueError(f"must be on or after {rules['min_value']}.", "min_value")
    if rules.get("max_value") and parsed.isoformat() > str(rules["max_value"]):
        raise FieldValueError(f"must be on or before {rules['max_value']}.", "max_value")
    return parsed.isoformat()


def _datetime(field, value: Any) -> str:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise FieldValueError(
                "must be a date and time as YYYY-MM-DDTHH:MM[:SS][+HH:MM].", "type"
            ) from None
    else:
        raise FieldValueError("must be a date and time.", "type")
    if parsed.tzinfo is None:
        # A time without offset is the tenant's local time (what staff type in a form).
        tz = ZoneInfo(getattr(current_tenant(), "timezone", None) or "UTC")
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _choice_values(field) -> list[str]:
    return [str(c["value"]) for c in field.choices or []]


def _choice(field, value: Any) -> str:
    allowed = _choice_values(field)
    if not isinstance(value, str) or value not in allowed:
        raise FieldValueError(f"must be one of {', '.join(allowed)}.", "choice")
    return value


def _multi_choice(field, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(";") if v.strip()]
    if not isinstance(value, list):
        raise FieldValueError("must be a list of choices.", "type")
    allowed = _choice_values(field)
    wrong = [str(v) for v in value if v not in allowed]
    if wrong:
        raise FieldValueError(f"has {', '.join(wrong)}, not among {', '.join(allowed)}.", "choice")
    return [v for v in allowed if v in value]  # choice order, no repeats


def _email(field, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError("must be an e-mail address.", "type")
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise FieldValueError(f"{value!r} is not a valid e-mail address.", "email") from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _phone(field, value: Any) -> str:
    if not isinstance(value, str | int):
        raise FieldValueError("must be a phone number.", "type")
    region = (field.rules or {}).get("region")
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        raise FieldValueError(
            f"{value!r} is not a phone number; use the international form, e.g. +852 2123 4567.",
            "phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise FieldValueError(f"{value!r} is not a valid phone number.", "phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_url = URLValidator(schemes=["http", "https"])


def _url_field(field, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError("must be a URL.", "type")
    try:
        _url(value.strip())
    except ValidationError:
        raise FieldValueError(f"{value!r} is not an http(s) URL.", "url") from None
    return _length(field, value.strip(), 2000)


def _country(field, value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in country_codes():
        raise FieldValueError(f"{value!r} is not an ISO 3166 country code.", "country")
    return code


def _language(field, value: Any) -> str:
    code = value.strip().lower().replace("_", "-") if isinstance(value, str) else ""
    if code not in language_codes():
        raise FieldValueError(f"{value!r} is not a known language code.", "language")
    return code


def _reference(field, value: Any) -> int:
    if isinstance(value, bool):
        raise FieldValueError("must be a record id.", "type")
    try:
        record_id = int(value)
    except (TypeError, ValueError):
        raise FieldValueError("must be a record id.", "type") from None
    if not record_exists(object_api_name=field.reference_object, record_id=record_id):
        raise FieldValueError(
            f"no {field.reference_object} record has id {record_id}.", "reference"
        )
    return record_id


COERCERS: dict[str, Callable[[Any, Any], Any]] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _long_text,
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: _decimal_field,
    FieldType.MONEY: _money,
    FieldType.PERCENT: _percent,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.CHOICE: _choice,
    FieldType.MULTI_CHOICE: _multi_choice,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.URL: _url_field,
    FieldType.COUNTRY: _country,
    FieldType.LANGUAGE: _language,
    FieldType.REFERENCE: _reference,
}


def coerce(field, value: Any) -> Any:
    """The stored form of ``value`` for ``field``, or FieldValueError."""
    return COERCERS[field.type](field, value)
