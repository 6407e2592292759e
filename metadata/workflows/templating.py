"""Safe message templates: ``Dear {{ guest.first_name }}, see you on {{ record.arrival }}``.

Only ``{{ dotted.name }}`` substitution over a context of plain values that the engine
builds from an allowlist (registered per object); no expressions, filters, tags, loops or
attribute access on Python objects, so tenant-written text can never run code. Unknown
names render as empty text; ``template_variables`` lets validation refuse them first."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

VARIABLE_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)\s*\}\}")
ROOTS = frozenset({"record", "guest", "property", "hotel", "workflow", "unsubscribe_url", "today"})


BRACES_RE = re.compile(r"\{\{(.*?)\}\}", re.S)


def template_variables(text: str) -> list[str]:
    """Every ``{{ ... }}`` in the text, as written; anything that is not a plain dotted
    lower-case name is returned too, so that validation refuses it."""
    return [m.strip() for m in BRACES_RE.findall(text or "")]


def _lookup(context: dict, name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _locale(language: str) -> str:
    return {"zh-hans": "zh_Hans", "zh-hant": "zh_Hant"}.get(language, language.replace("-", "_"))


def _shown(value: Any, language: str) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    try:
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=_locale(language))
        if isinstance(value, date):
            return format_date(value, format="long", locale=_locale(language))
        if isinstance(value, Decimal):
            return format_decimal(value, locale=_locale(language))
    except (ValueError, LookupError):  # an unknown locale: ISO text is still right
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def render(text: str, context: dict, *, language: str = "en") -> str:
    return VARIABLE_RE.sub(lambda m: _shown(_lookup(context, m.group(1)), language), text or "")


def pick_language(texts: dict[str, str], wanted: list[str]) -> str:
    """The first of ``wanted`` (the recipient's language, the tenant's default, English)
    that ``texts`` has, then any: a message always goes out in some language."""
    for language in wanted:
        if language and texts.get(language):
            return language
        base = (language or "").split("-")[0]
        if base and texts.get(base):
            return base
    return next((k for k, v in texts.items() if v), "en")
