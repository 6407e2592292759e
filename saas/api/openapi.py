"""The tenant's OpenAPI 3 document.

drf-spectacular describes the fixed endpoints (metadata, webhooks, jobs, access). The
record endpoints are generic at the URL level (one route serves every object), so the
postprocessing hook writes them out per object from the tenant's metadata: one set of
paths per built-in collection and per tenant-defined object, each with a schema whose
``custom`` property lists that tenant's custom fields with their types and choices.

``base_schema()`` leaves the tenant's own definitions out: it is what every tenant
shares, and what the committed snapshot (saas/openapi/base.json) pins.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models

_base_only: contextvars.ContextVar[bool] = contextvars.ContextVar("openapi_base", default=False)

GENERIC = (
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/api/v1/{collection}/",
    "/api/v1/objects/{api_name}/records/",
    "/api/v1/reservations/ota",
)

# Fixed endpoints that belong to a switchable module: a tenant's own schema leaves them
# out while the module is off (the base snapshot, shared by all, keeps them).
# A module's own routes leave a tenant's document while the module is off (its doors
# answer 403 module_disabled then).
MODULE_PATHS = {
    "/api/v1/loyalty/": "loyalty",
    "/api/v1/analytics/": "analytics",
    "/api/v1/service-levels/": "service",
    "/api/v1/service-calendars/": "service",
    "/api/v1/service-measures/": "service",
    "/api/v1/surveys/": "service",
    "/api/v1/survey-responses/": "service",
    "/api/v1/survey-measures/": "service",
    "/api/v1/cases/{id}/sla/": "service",
    "/api/v1/cases/{id}/messages/": "service",
    "/api/v1/cases/inbound-email/": "service",
    "/api/v1/cases/{id}/assign/": "service",
    "/api/v1/cases/{id}/merge/": "service",
    "/api/v1/cases/{id}/compensations/": "service",
    "/api/v1/compensations/": "service",
    "/api/v1/case-assignment-rules/": "service",
    "/api/v1/offers/": "marketing",
    "/api/v1/marketing/": "marketing",
}

ERRORS: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Bad input: each error names the field and the problem",
    "401": "No or a wrong API key",
    "402": "The hotel group's subscription is suspended or cancelled: reads only",
    "403": "The key's scopes or the user's role do not allow this",
    "404": "No such record, object or linked record (the error names the field)",
    "405": "The method is not allowed here",
    "406": "Only application/json answers are offered",
    "409": "Conflicts with stored data",
    "412": "If-Match does not match the record's current version (ETag)",
    "413": "The body is too large",
    "415": "Send application/json",
    "429": "Too many requests for this API key (see Retry-After)",
}
# Answered by every operation of the API, whatever it does.
ALWAYS = ("401", "403", "404", "406", "429")
# Answered by every write.
WRITES = ("400", "402", "409", "413", "415")


@contextmanager
def base_only() -> Iterator[None]:
    token = _base_only.set(True)
    try:
        yield
    finally:
        _base_only.reset(token)


def only_api(endpoints: list) -> list:
    """Preprocessing hook: the API only, without the generic record routes (the hook
    below writes them per object)."""
    return [e for e in endpoints if e[0].startswith("/api/v1/") and not e[0].startswith(GENERIC)]


# --- types ------------------------------------------------------------------------------


def _django_field_schema(field: models.Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.AutoField | models.IntegerField) or field.many_to_one:
        schema = {"type": "integer"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
    elif isinstance(field, models.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField) or type(field).__name__ == "EncryptedDateField":
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.UUIDField):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(field, ArrayField):
        schema = {"type": "array", "items": _django_field_schema(field.base_field)}
    elif isinstance(field, models.JSONField):
        schema = {}
    else:
        schema = {"type": "string"}
    if field.null and schema:
        schema["nullable"] = True
    return schema


# Text the API stores: PostgreSQL text cannot hold NUL.
NO_NUL = r"^[^\x00]*$"
NUMERIC_TEXT = r"^\s*-?(\d+(\.\d*)?|\.\d+)\s*$"
DECIMAL_LIMIT = 10**15


def _text(max_length: int | None = None, min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
    if max_length:
        schema["maxLength"] = max_length
    if min_length:
        schema["minLength"] = min_length
    return schema


def _number_or_text(minimum: float | None = None, maximum: float | None = None) -> dict:
    number: dict[str, Any] = {"type": "number"}
    if minimum is not None:
        number["minimum"] = minimum
    if maximum is not None:
        number["maximum"] = maximum
    return {"anyOf": [number, {"type": "string", "pattern": NUMERIC_TEXT}]}


def _codes(kind: str) -> list[str]:
    from metadata.types import country_codes, language_codes

    return sorted(country_codes() if kind == "country" else language_codes())


def _custom_read(field) -> dict[str, Any]:
    """How a stored value of a custom field reads (the coerced, stored form)."""
    kind = field.type
    if kind == "integer" or kind == "reference":
        return {"type": "integer"}
    if kind in ("decimal", "percent"):
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    if kind == "money":
        return {
            "type": "object",
            "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
        }
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    values = [str(c["value"]) for c in field.choices or []]
    if kind == "choice" and values:
        return {"type": "string", "enum": [*values, None]}
    if kind == "multi_choice":
        items: dict[str, Any] = {"type": "string", "enum": values} if values else {"type": "string"}
        return {"type": "array", "items": items}
    return {"type": "string"}


def _custom_write(field) -> dict[str, Any]:
    """What a write of a custom field accepts: exactly what metadata.types.coerce takes
    (JSON numbers or numeric text, true/false or their words...)."""
    kind, rules = field.type, field.rules or {}
    low = rules.get("min_value")
    high = rules.get("max_value")
    if kind in ("text", "long_text"):
        schema = _text(int(rules.get("max_length") or (255 if kind == "text" else 100_000)))
        if rules.get("regex"):
            schema["pattern"] = rules["regex"]
        return schema
    if kind == "integer":
        return {
            "anyOf": [
                {
                    "type": "integer",
                    "minimum": low if low is not None else -(DECIMAL_LIMIT - 1),
                    "maximum": high if high is not None else DECIMAL_LIMIT - 1,
                },
                {"type": "string", "pattern": r"^\s*-?\d+\s*$"},
            ]
        }
    if kind in ("decimal", "percent"):
        bounds = (
            float(low) if low is not None else -(DECIMAL_LIMIT - 1),
            float(high) if high is not None else DECIMAL_LIMIT - 1,
        )
        return _number_or_text(*bounds)
    if kind == "money":
        amount = _number_or_text(-(DECIMAL_LIMIT - 1), DECIMAL_LIMIT - 1)
        return {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["amount"],
                    "additionalProperties": False,
                    "properties": {
                        "amount": amount,
                        "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                    },
                },
                *amount["anyOf"],
            ]
        }
    if kind == "boolean":
        return {
            "anyOf": [
                {"type": "boolean"},
                {"type": "string", "enum": ["true", "false", "yes", "no", "y", "n", "on", "off"]},
                {"type": "integer", "enum": [0, 1]},
            ]
        }
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    values = [str(c["value"]) for c in field.choices or []]
    if kind == "choice":
        return {"type": "string", "enum": values}
    if kind == "multi_choice":
        return {"type": "array", "items": {"type": "string", "enum": values}}
    if kind == "email":
        return {"type": "string", "format": "email", "maxLength": 254}
    if kind == "phone":
        return {"type": "string", "format": "phone"}
    if kind == "url":
        return {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2000}
    if kind in ("country", "language"):
        return {"type": "string", "enum": _codes(kind)}
    if kind == "reference":
        return {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    return {}


def _custom_schema(snap, *, write: bool = False) -> dict[str, Any]:
    properties = {}
    if not _base_only.get():
        for name, field in snap.active_fields.items():
            prop = _custom_write(field) if write else _custom_read(field)
            if write and field.type not in ("text", "long_text"):
                prop = {"anyOf": [prop, {"type": "string", "enum": [""]}]}  # "" clears
            # null clears a value (and reads as no value).
            properties[name] = {**prop, "nullable": True, "description": field.label}
    return {
        "type": "object",
        "nullable": write,  # null in a write: no custom values
        "description": "Custom field values by api name, typed as each field is defined.",
        "properties": properties,
        # A tenant's document lists every field; the shared one cannot.
        "additionalProperties": _base_only.get() or not write,
    }


def _record_schema(snap, writer=None) -> dict[str, Any]:
    """A record as the API answers it. Keys no update takes are ``readOnly``."""
    from saas.api.query import UNREADABLE as HIDDEN

    properties: dict[str, Any] = {}
    if snap.builtin is not None:
        model = snap.model()
        for field in model._meta.concrete_fields:
            if field.name not in HIDDEN:
                properties[field.name] = _django_field_schema(field)
        for key in snap.builtin.related_keys:
            properties[key] = dict(snap.builtin.related_schema.get(key, {}))
        if hasattr(model, "id_document_number_masked"):
            properties["id_document_number"] = {
                "type": "string",
                "nullable": True,
                "description": "Masked; shown only to roles allowed to see it. Sending the "
                "masked form back leaves the stored number as it is.",
            }
        writable = writer.update_keys() if writer is not None else frozenset()
    else:
        properties = {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "external_id": {"type": "string", "nullable": True},
            "owner_id": {"type": "integer", "nullable": True},
            "created": {"type": "string", "format": "date-time"},
            "updated": {"type": "string", "format": "date-time"},
        }
        writable = frozenset(CUSTOM_OBJECT_KEYS)
    for name, prop in properties.items():
        if name not in writable:
            prop["readOnly"] = True
    properties["custom"] = _custom_schema(snap)
    return {"type": "object", "required": ["id"], "properties": properties}


CUSTOM_OBJECT_KEYS = ("name", "external_id", "owner_id", "custom")


def _either_blank(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "string", "enum": [""]}]}


def _model_write(model: type[models.Model], name: str) -> dict[str, Any]:
    """What a write of a model column accepts (crm.records.typed, then the service)."""
    from django.db import connection

    from tenants.validators import active_currencies

    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is a column"
    schema: dict[str, Any]
    if field.many_to_one:
        schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    elif isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.DecimalField):
        limit = 10 ** ((field.max_digits or 30) - (field.decimal_places or 0))
        schema = {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": -limit,
                    "maximum": limit,
                    "exclusiveMinimum": True,
                    "exclusiveMaximum": True,
                },
                {"type": "string", "pattern": NUMERIC_TEXT},
            ]
        }
    elif isinstance(field, models.IntegerField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        schema = {"type": "integer", "minimum": low or 0, "maximum": high}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, ArrayField):
        schema = {"type": "array", "items": _text(getattr(field.base_field, "max_length", None))}
    elif isinstance(field, models.JSONField):
        schema = {"type": "object"}
    elif field.choices:
        values = [str(v) for v, _ in field.flatchoices]
        schema = {"type": "string", "enum": values + ([""] if field.blank else [])}
    elif name in ("country", "nationality"):
        schema = {"type": "string", "enum": [*_codes("country"), ""]}
    elif name == "currency":
        schema = {"type": "string", "enum": sorted(active_currencies())}
    elif name == "timezone":
        import zoneinfo

        schema = {"type": "string", "enum": sorted(zoneinfo.available_timezones())}
    elif isinstance(field, models.EmailField):
        schema = _either_blank({"type": "string", "format": "email", "maxLength": 254})
    elif name == "phone":
        schema = _either_blank({"type": "string", "format": "phone"})
    else:
        schema = _text(getattr(field, "max_length", None))
    if field.null:
        schema["nullable"] = True
    if field.help_text:
        schema["description"] = str(field.help_text)
    return schema


def _extra_write(model, name: str, shape: tuple) -> dict[str, Any]:
    outer, item = shape
    if name == "emails":
        return {"type": "array", "items": {"type": "string", "format": "email", "maxLength": 254}}
    if name == "phones":
        return {"type": "array", "items": {"type": "string", "format": "phone"}}
    if name in ("addresses", "external_ids"):
        related = model._meta.get_field(name)
        return {"type": "array", "items": _related_write(related.related_model, name)}
    if outer is list:
        items = {"type": "integer", "minimum": 1} if item is int else _text()
        return {"type": "array", "items": items if item is not dict else {"type": "object"}}
    if outer is dict:
        return {"type": "object"}
    return _text()


def _related_write(model, name: str) -> dict[str, Any]:
    keys = {
        "addresses": ("kind", "line1", "line2", "city", "region", "postal_code", "country"),
        "external_ids": ("source", "external_id"),
    }[name]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["external_id"] if name == "external_ids" else [],
        "properties": {k: _model_write(model, k) for k in keys},
    }


def _write_schema(snap, writer, *, create: bool) -> dict[str, Any]:
    """The body a create (or an update) takes: the writer's keys, typed as the writer
    converts them, with what a create requires."""
    if snap.builtin is None:
        props: dict[str, Any] = {
            "name": _text(255),
            "external_id": {**_text(100), "nullable": True},
            "owner_id": {"type": "integer", "minimum": 1, "nullable": True},
            "custom": _custom_schema(snap, write=True),
        }
        return {"type": "object", "additionalProperties": False, "properties": props}
    model = snap.model()
    keys = writer.create_keys() if create else writer.update_keys()
    extra = writer.extra_write_keys
    props = {}
    for name in sorted(keys):
        if name == "custom":
            props[name] = _custom_schema(snap, write=True)
        elif name in extra:
            props[name] = _extra_write(model, name, extra[name])
        else:
            props[name] = _model_write(model, name)
        if name in writer.schema_hints:
            props[name] = {**props[name], **writer.schema_hints[name]}
        if create and name in writer.create_schema_hints:
            props[name] = {**props[name], **writer.create_schema_hints[name]}
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }
    if create and writer.required:
        schema["required"] = list(writer.required)
        for name in writer.required:
            prop = props.get(name, {})
            if prop.get("type") == "string":
                prop["minLength"] = 1
                if "" in prop.get("enum", ()):
                    prop["enum"] = [v for v in prop["enum"] if v != ""]
            prop.pop("nullable", None)
    if create and writer.required_one_of:
        # e.g. a guest needs a surname or a given name
        schema["anyOf"] = [
            {"required": [name], "properties": {name: {"minLength": 1}}}
            for name in writer.required_one_of
        ]
    return schema


# --- paths ------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _json(_ref("Errors"), ERROR_STATUSES[code]) for code in codes}


def _component(api_name: str) -> str:
    return "".join(part.capitalize() for part in api_name.split("_"))


def _ordering_pattern(names: list[str], *, signed: bool) -> str:
    """Comma-separated names; blanks around them and empty items are ignored."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    one = rf"\s*({'-?' if signed else ''}({alternatives}))?\s*"
    return f"^{one}(,{one})*$"


def _list_params(snap) -> list[dict[str, Any]]:
    from saas.api.query import MAX_LIMIT, MAX_OFFSET, UNREADABLE

    names = [f.name for f in snap.model()._meta.concrete_fields if f.name not in UNREADABLE] + [
        f"custom.{n}" for n in (snap.active_fields if not _base_only.get() else {})
    ]
    related = list(snap.builtin.related_keys) if snap.builtin is not None else []
    return [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "description": f"Records per page (1-{MAX_LIMIT}, default 50)",
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string", "pattern": rf"^(o\d{{1,{len(str(MAX_OFFSET)) - 1}}})?$"},
            "description": "Where the page starts: the previous page's next link carries it",
        },
        {
            "name": "ordering",
            "in": "query",
            "schema": {"type": "string", "pattern": _ordering_pattern(names, signed=True)},
            "description": "Comma-separated fields, each <field> or -<field>; custom fields "
            "as custom.<api_name>",
        },
        {
            "name": "fields",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": _ordering_pattern(names + related, signed=False),
            },
            "description": "Only these keys (and id) in each record",
        },
        {
            "name": "include",
            "in": "query",
            "schema": {"type": "string", "enum": ["", "total"]},
            "description": "include=total counts the matching records",
        },
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "maxLength": 200, "pattern": NO_NUL},
            "description": "Search",
        },
    ]


# Any JSON an item of a batch may hold, in text PostgreSQL can store (no NUL).
STORED_JSON: dict[str, Any] = {
    "nullable": True,
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"$ref": "#/components/schemas/StoredJSON"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": "#/components/schemas/StoredJSON"},
        },
    ],
}
BATCH_ITEM: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": NO_NUL},
    "additionalProperties": {"$ref": "#/components/schemas/StoredJSON"},
}


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the version this change is based on (or *); 412 if the "
    "record changed since, or if the value names no version of it",
}
ETAG = {"ETag": {"description": "The record's version", "schema": {"type": "string"}}}


def _object_paths(
    snap, base: str, writer, writable: bool, deletable: bool, bulk: bool = True
) -> dict[str, Any]:
    name = _component(snap.api_name)
    api = snap.api_name
    tag = [api]
    record = _ref(name)
    page = {
        "type": "object",
        "required": ["results", "next"],
        "properties": {
            "results": {"type": "array", "items": record},
            "next": {"type": "string", "nullable": True},
            "total": {"type": "integer"},
        },
    }
    pk = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    }
    collection: dict[str, Any] = {
        "get": {
            "operationId": f"{api}_list",
            "tags": tag,
            "summary": "List; filter with <field>=, <field>__<op>=, custom.<name>=",
            "parameters": _list_params(snap),
            "responses": {"200": _json(page, "A page"), **_errors("400", *ALWAYS)},
        }
    }
    found = {**_json(record, "The record"), "headers": ETAG}
    item: dict[str, Any] = {
        "get": {
            "operationId": f"{api}_retrieve",
            "parameters": [pk],
            "tags": tag,
            "responses": {"200": found, **_errors("404", *ALWAYS)},
        },
    }
    paths = {f"{base}/": collection, f"{base}/{{id}}/": item}
    links = {
        "Retrieve": {"operationId": f"{api}_retrieve", "parameters": {"id": "$response.body#/id"}},
    }
    if writable:
        links["Update"] = {
            "operationId": f"{api}_update",
            "parameters": {"id": "$response.body#/id"},
        }
        create = {
            "required": True,
            "content": {"application/json": {"schema": _ref(f"{name}Write")}},
        }
        collection["post"] = {
            "operationId": f"{api}_create",
            "tags": tag,
            "requestBody": create,
            "responses": {
                "201": {**_json(record, "Created"), "headers": ETAG, "links": links},
                **_errors("404", *WRITES, *ALWAYS),
            },
        }
        item["patch"] = {
            "operationId": f"{api}_update",
            "parameters": [pk, IF_MATCH],
            "tags": tag,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(f"{name}Update")}},
            },
            "responses": {
                "200": {**_json(record, "Updated"), "headers": ETAG},
                **_errors("404", "412", *WRITES, *ALWAYS),
            },
        }
    if writable and bulk:
        result = {
            "type": "object",
            "required": ["index", "status"],
            "properties": {
                "index": {"type": "integer"},
                "status": {"type": "string", "enum": ["created", "updated", "error"]},
                "id": {"type": "integer"},
                "errors": ERRORS["properties"]["errors"],
            },
        }
        key = writer.bulk_key if writer is not None else "external_id"
        paths[f"{base}/bulk/"] = {
            "post": {
                "operationId": f"{api}_bulk_upsert",
                "tags": tag,
                "summary": f"Upsert up to 1,000 records keyed by {key}",
                "description": f"Each record is a {name}Write object with its {key}; each is "
                "validated on its own and answered in results (one failing record does "
                "not stop the others).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["records"],
                                "additionalProperties": False,
                                "properties": {
                                    "records": {
                                        "type": "array",
                                        "items": BATCH_ITEM,
                                        "minItems": 1,
                                        "maxItems": 1000,
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {"results": {"type": "array", "items": result}},
                        },
                        "One result per record, in request order",
                    ),
                    **_errors(*WRITES, *ALWAYS),
                },
            }
        }
    if deletable:
        item["delete"] = {
            "operationId": f"{api}_destroy",
            "parameters": [pk, IF_MATCH],
            "tags": tag,
            "responses": {
                "204": {"description": "Deleted"},
                **_errors("404", "402", "409", "412", *ALWAYS),
            },
        }
    return paths


def tenant_objects(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the record endpoints of every object this tenant has."""
    from metadata.definitions import snapshot
    from metadata.registry import builtin_collections, builtin_objects
    from metadata.services.modules import modules_available

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Errors"] = ERRORS
    schemas["StoredJSON"] = STORED_JSON
    paths = result.setdefault("paths", {})
    segments = {api_name: segment for segment, api_name in builtin_collections().items()}
    writers = {name: obj.writer for name, obj in builtin_objects().items()}
    base = _base_only.get()
    modules = {} if base else modules_available()
    for api_name, snap in sorted(snapshot().items()):
        builtin = snap.builtin is not None
        if base and not builtin:
            continue
        if not base and (
            snap.definition.archived_at is not None
            or not modules.get(snap.definition.module, False)
        ):
            continue
        if builtin and api_name not in segments:
            continue
        prefix = (
            f"/api/v1/{segments[api_name]}" if builtin else f"/api/v1/objects/{api_name}/records"
        )
        writer = writers.get(api_name)
        writable = not builtin or (writer is not None and writer.create is not None)
        schemas[_component(api_name)] = _record_schema(snap, writer)
        if writable:
            schemas[f"{_component(api_name)}Write"] = _write_schema(snap, writer, create=True)
            schemas[f"{_component(api_name)}Update"] = _write_schema(snap, writer, create=False)
        paths.update(
            _object_paths(
                snap,
                prefix,
                writer,
                writable,
                deletable=not builtin,
                bulk=not builtin or (writer is not None and writer.bulk_key is not None),
            )
        )
    paths["/api/v1/reservations/ota"] = {
        "post": {
            "operationId": "reservations_ota_push",
            "tags": ["reservation"],
            "summary": "OTA_HotelResNotifRQ as JSON; one result per reservation",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["HotelReservations"],
                            "additionalProperties": True,
                            "properties": {
                                "HotelReservations": {
                                    "type": "array",
                                    "items": BATCH_ITEM,
                                    "description": "Each an OTA HotelReservation; each is "
                                    "validated on its own and answered in results",
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"results": {"type": "array"}}},
                    "One result per reservation",
                ),
                **_errors(*WRITES, *ALWAYS),
            },
        }
    }
    if not base:
        for prefix, module in MODULE_PATHS.items():
            if not modules.get(module, False):
                for path in [p for p in paths if p.startswith(prefix)]:
                    del paths[path]
    result["paths"] = dict(sorted(paths.items()))
    statuses_complete(result)
    return result


def base_schema(request=None) -> dict:
    """The schema every tenant shares (no tenant-defined fields or objects)."""
    from drf_spectacular.generators import SchemaGenerator

    with base_only():
        return SchemaGenerator().get_schema(request=request, public=True)


_METHODS = ("get", "post", "put", "patch", "delete")


def statuses_complete(result: dict) -> None:
    """Every operation documents every status the API can answer it with, each with the
    error body: authentication, rights, throttling and content negotiation everywhere; a
    404 where the path names something; bad input, a read-only tenant, conflicts, size
    and media type on writes."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Errors"] = ERRORS
    _null_once(result)
    for operations in result.get("paths", {}).values():
        for method in _METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            codes = list(ALWAYS)
            if method != "get":
                codes += WRITES if method != "delete" else ("400", "402", "409")
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append("400")
            _closed_bodies(operation, schemas)
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, _json(_ref("Errors"), ERROR_STATUSES[code]))


# --- helpers for the fixed endpoints' declarations ---------------------------------------


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """``extend_schema(request=...)`` for a JSON body given as a raw schema."""
    return {"application/json": schema}


def page(items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": items}},
    }


def text(max_length: int | None = None, *, min_length: int = 0) -> dict[str, Any]:
    return _text(max_length, min_length)


def _closed_bodies(operation: dict, schemas: dict) -> None:
    """A JSON body's object schema lists every key the API takes (each door refuses
    others by name), so it says so: no additional properties."""
    content = (operation.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema:
        return
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)


def _null_once(node: Any) -> None:
    """drf-spectacular writes a nullable choice as ``nullable`` *and* a ``oneOf`` branch
    for null, so null matches two branches of a oneOf and the document refuses what the
    API takes. One way to say null is kept: ``nullable``."""
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if node.get("nullable") and isinstance(branches, list):
            kept = [b for b in branches if b != {"$ref": "#/components/schemas/NullEnum"}]
            if len(kept) == 1:
                del node["oneOf"]
                node["allOf"] = kept
            elif kept:
                node["oneOf"] = kept
        for value in node.values():
            _null_once(value)
    elif isinstance(node, list):
        for value in node:
            _null_once(value)
