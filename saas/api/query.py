"""The list query syntax, parsed once for every list and export (the integrators'
contract): ``<field>=<value>`` or ``<field>__<op>=<value>`` with ops ne, in (comma
separated), gt, gte, lt, lte, contains, isnull; custom fields are written
``custom.<api_name>``; ``ordering=-custom.points,surname``; ``q=`` searches; ``limit``
(1-100, default 50) and the opaque ``cursor`` of the previous page's ``next``.

Parsing only checks the shape and that the field exists; whether the caller may read
the field it filters or orders by is the selector's question (the access policy)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# A name never holds "__" (api names refuse it), so "__" always starts the operator.
PARAM_RE = re.compile(r"(custom\.)?([a-z](?:[a-z0-9]|_(?!_))*)(?:__([a-z]+))?")
RESERVED_PARAMS = {"ordering", "cursor", "limit", "q", "format", "file_format", "fields", "include"}
MAX_LIMIT = 100
# Past this, a cursor is not one the API gave out (and OFFSET would be absurd).
MAX_OFFSET = 10**7
# Stored values no API reader gets as such: encrypted identity numbers, the JSONB blobs.
UNREADABLE = {"id_document_number", "id_document_expiry", "custom", "data", "erased_at"}


@dataclass(frozen=True)
class ListQuery:
    filters: list[tuple[str, str, str]]
    ordering: list[str]
    search: str
    limit: int
    offset: int
    # ``fields=surname,custom.points``: only these keys (and ``id``) in each record.
    fields: list[str] | None = None
    # ``include=total``: count the matching records (only when asked: it costs a scan).
    total: bool = False


def _field_name(snap, model_fields: set[str], raw_name: str, is_custom: bool, param: str) -> str:
    custom = snap.active_fields
    if is_custom:
        if raw_name not in custom:
            raise ValidationError({param: f"{snap.api_name} has no custom field {raw_name!r}."})
    elif raw_name not in model_fields or raw_name in UNREADABLE:
        hint = f" (custom fields are written custom.{raw_name})" if raw_name in custom else ""
        raise ValidationError({param: f"{raw_name} is not a filterable field{hint}."})
    return raw_name


def list_query_parse(params, snap, *, paged: bool = True) -> ListQuery:
    """``params`` is a QueryDict; ``snap`` the object's metadata snapshot."""
    model_fields = {f.name for f in snap.model()._meta.concrete_fields}
    filters = []
    for key, value in params.items():
        if key in RESERVED_PARAMS:
            continue
        match = PARAM_RE.fullmatch(key)
        if not match:
            raise ValidationError({key: "Use <field>=value, <field>__<op>=value or custom.<name>."})
        name = _field_name(snap, model_fields, match.group(2), bool(match.group(1)), key)
        if "\x00" in value:
            raise ValidationError({key: "Filter values cannot contain NUL characters."})
        filters.append((name, match.group(3) or "eq", value))
    ordering = []
    for item in params.get("ordering", "").split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        match = PARAM_RE.fullmatch(item.lstrip("-"))
        if not match or match.group(3):
            raise ValidationError({"ordering": f"{item} is not a field to order by."})
        name = _field_name(snap, model_fields, match.group(2), bool(match.group(1)), "ordering")
        ordering.append(f"-{name}" if descending else name)
    search = params.get("q", "").strip()
    if "\x00" in search:
        raise ValidationError({"q": "The search cannot contain NUL characters."})
    if len(search) > 200:
        raise ValidationError({"q": "Search for at most 200 characters."})
    limit = _limit(params.get("limit", "50")) if paged else 0
    offset = cursor_decode(params.get("cursor")) if paged else 0
    fields = None
    related = set(snap.builtin.related_keys) if snap.builtin is not None else set()
    if params.get("fields"):
        fields = []
        for item in params["fields"].split(","):
            item = item.strip()
            if not item:
                continue
            match = PARAM_RE.fullmatch(item)
            if not match or match.group(3):
                raise ValidationError({"fields": f"{item} is not a field name."})
            if not match.group(1) and item in related:  # a guest's emails, phones
                fields.append(item)
                continue
            name = _field_name(snap, model_fields, match.group(2), bool(match.group(1)), "fields")
            fields.append(f"custom.{name}" if match.group(1) else name)
    include = {i.strip() for i in params.get("include", "").split(",") if i.strip()}
    if include - {"total"}:
        raise ValidationError({"include": "Only include=total is known."})
    return ListQuery(filters, ordering, search, limit, offset, fields, "total" in include)


def _limit(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a whole number from 1 to {MAX_LIMIT}."})
    return int(raw)


def cursor_decode(raw: str | None) -> int:
    """``o<offset>``: where the next page starts (the ``next`` link carries it)."""
    if not raw:
        return 0
    digits = raw[1:] if raw.startswith("o") else ""
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_OFFSET)) - 1:
        raise ValidationError({"cursor": "This cursor is not one the API gave out."})
    return int(digits)


def cursor_encode(offset: int) -> str:
    return f"o{offset}"
