"""Formatting for the screens: dates, numbers and money per the active language (Babel's
CLDR data), and custom values shown with their labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import timezone
from django.utils.translation import get_language, gettext, to_locale

from metadata.currency import money_round

register = template.Library()


def _locale() -> Locale:
    try:
        return Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@register.filter
def ldate(value, style: str = "medium") -> str:
    """A date in the reader's language: 25 Nov 2026 / 2026年11月25日."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(timezone.localtime(value), style, locale=_locale())
    return format_date(value, style, locale=_locale())


@register.filter
def ldatetime(value, style: str = "medium") -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, style, locale=_locale())


@register.filter
def lnumber(value) -> str:
    if value in (None, ""):
        return ""
    try:
        return format_decimal(Decimal(str(value)), locale=_locale())
    except (InvalidOperation, ValueError):
        return str(value)


@register.simple_tag
def money(amount, currency: str) -> str:
    """An amount in its currency, rounded to the currency's minor unit: €1,234.50."""
    if amount in (None, "") or not currency:
        return ""
    try:
        # The platform's rounding (half up to the minor unit), not Babel's half-even.
        rounded = money_round(Decimal(str(amount)), currency)
        return format_currency(rounded, currency, locale=_locale())
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}"


@register.filter
def custom_display(item: dict) -> str:
    """A custom field's value as text, given the row built by ``saas.ui.records``."""
    field, value = item["field"], item["value"]
    if value in (None, "", []):
        return ""
    kind = field["type"]
    labels = {c["value"]: c["label"] for c in field.get("choices", [])}
    if kind == "choice":
        return labels.get(value, str(value))
    if kind == "multi_choice":
        return ", ".join(labels.get(v, str(v)) for v in value)
    if kind == "boolean":
        return gettext("Yes") if value else gettext("No")
    if kind == "money" and isinstance(value, dict):
        return money(value.get("amount"), value.get("currency", ""))
    if kind == "date":
        return ldate(value)
    if kind == "datetime":
        return ldatetime(value)
    if kind in ("integer", "decimal"):
        return lnumber(value)
    if kind == "percent":
        return f"{lnumber(value)} %"
    return str(value)


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def html_id(name: str) -> str:
    """An element id for an input name such as ``action.0.subject.zh-hans``."""
    return "wf_" + "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))


@register.filter
def pretty_json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


@register.filter
def trail_value(value) -> str:
    """A value of the audit trail on one line: text as it is, lists and objects as compact
    JSON, nothing as a dash."""
    import json

    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
