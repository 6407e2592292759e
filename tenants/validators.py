"""Validation of tenant settings: ISO 4217 currencies, the supported language superset,
IANA time zones, slugs and host names."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import lru_cache

from babel.core import get_global
from django.conf import settings
from django.core.exceptions import ValidationError

from tenants.modules import module_catalogue

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Schema and host names we never hand to a hotel group.
RESERVED_SLUGS = frozenset(
    {
        "public",
        "template",
        "tenant-template",
        "tenant_template",
        "information-schema",
        "www",
        "api",
        "admin",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "billing",
        "status",
        "help",
        "support",
        "docs",
        "auth",
        "login",
        "signup",
        "pg",
        "postgres",
        "atrium",
        "platform",
        "demo-template",
    }
)


@lru_cache(maxsize=1)
def active_currencies() -> frozenset[str]:
    """ISO 4217 codes in current use somewhere (Babel's CLDR territory data)."""
    today = date.today()
    codes: set[str] = set()
    for entries in get_global("territory_currencies").values():
        for code, _start, end, tender in entries:
            if tender and (end is None or date(*end) >= today):
                codes.add(code)
    return frozenset(codes)


def supported_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def validate_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or code not in active_currencies():
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code in current use.",
            code="unknown_currency",
            params={"value": value},
        )
    return code


def validate_language(value: str) -> str:
    code = (value or "").strip().lower()
    if code not in supported_languages():
        raise ValidationError(
            "%(value)s is not a supported language (supported: %(supported)s).",
            code="unknown_language",
            params={"value": value, "supported": ", ".join(supported_languages())},
        )
    return code


def validate_timezone(value: str) -> str:
    name = (value or "").strip()
    if name not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not an IANA time zone (for example Europe/Paris).",
            code="unknown_timezone",
            params={"value": value},
        )
    return name


def validate_module(value: str) -> str:
    key = (value or "").strip()
    catalogue = module_catalogue()
    if key not in catalogue:
        raise ValidationError(
            "%(value)s is not a known module (known: %(known)s).",
            code="unknown_module",
            params={"value": value, "known": ", ".join(sorted(catalogue))},
        )
    return key


def validate_slug(value: str) -> str:
    slug = (value or "").strip().lower()
    if not SLUG_RE.fullmatch(slug) or "--" in slug:
        raise ValidationError(
            "%(value)s is not a valid slug: use 3-40 lowercase letters, digits and single "
            "hyphens, starting with a letter.",
            code="invalid_slug",
            params={"value": value},
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        raise ValidationError(
            "%(value)s is reserved.", code="reserved_slug", params={"value": value}
        )
    return slug


def validate_hostname(value: str) -> str:
    host = (value or "").strip().lower().rstrip(".")
    labels = host.split(".")
    if not host or len(host) > 253 or not all(HOST_LABEL_RE.fullmatch(label) for label in labels):
        raise ValidationError(
            "%(value)s is not a valid host name (for example harbour.atrium.example).",
            code="invalid_domain",
            params={"value": value},
        )
    return host


def slug_to_schema(slug: str) -> str:
    """PostgreSQL schema name for a tenant slug (hyphens are not welcome in identifiers)."""
    return slug.replace("-", "_")
