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
MODULE_PATHS = {"/api/v1/loyalty/": "loyalty"}

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
    "403": "The key's scopes or the user's role do not allow this",
    "404": "No such record or object",
    "409": "Conflicts with stored data",
    "413": "The body is too large",
    "429": "Too many requests for this API key (see Retry-After)",
}


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
    elif isinstance(field, models.DecimalField | models.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
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


_CUSTOM_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "long_text": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    "percent": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    "money": {
        "type": "object",
        "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
    },
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "choice": {"type": "string"},
    "multi_choice": {"type": "array", "items": {"type": "string"}},
    "email": {"type": "string"},
    "phone": {"type": "string"},
    "url": {"type": "string"},
    "country": {"type": "string"},
    "language": {"type": "string"},
    "reference": {"type": "integer"},
}


def _custom_schema(snap) -> dict[str, Any]:
    properties = {}
    if not _base_only.get():
        for name, field in snap.active_fields.items():
            prop = dict(_CUSTOM_TYPES.get(field.type, {}))
            prop = {**prop, "nullable": True, "description": field.label}
            if field.type in ("choice", "multi_choice") and field.choices:
                values = [c["value"] for c in field.choices]
                if field.type == "choice":
                    prop["enum"] = [*values, None]
                else:
                    prop["items"] = {"type": "string", "enum": values}
            properties[name] = prop
    return {
        "type": "object",
        "description": "Custom field values by api name, typed as each field is defined.",
        "properties": properties,
        "additionalProperties": True,
    }


def _record_schema(snap) -> dict[str, Any]:
    from saas.api.query import UNREADABLE as HIDDEN

    properties: dict[str, Any] = {}
    if snap.builtin is not None:
        model = snap.model()
        for field in model._meta.concrete_fields:
            if field.name not in HIDDEN:
                properties[field.name] = _django_field_schema(field)
        if hasattr(model, "id_document_number_masked"):
            properties["id_document_number"] = {
                "type": "string",
                "nullable": True,
                "description": "Masked; shown only to roles allowed to see it",
            }
    else:
        properties = {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "external_id": {"type": "string", "nullable": True},
            "owner_id": {"type": "integer", "nullable": True},
            "created": {"type": "string", "format": "date-time"},
            "updated": {"type": "string", "format": "date-time"},
        }
    properties["custom"] = _custom_schema(snap)
    return {"type": "object", "properties": properties}


def _write_schema(record: dict[str, Any]) -> dict[str, Any]:
    skip = {"id", "created", "updated", "merged_into", "erased_at"}
    props = {k: v for k, v in record["properties"].items() if k not in skip}
    return {"type": "object", "properties": props}


# --- paths ------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _json(_ref("Errors"), ERROR_STATUSES[code]) for code in codes}


def _component(api_name: str) -> str:
    return "".join(part.capitalize() for part in api_name.split("_"))


LIST_PARAMS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        "description": "Records per page (at most 100)",
    },
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    {
        "name": "ordering",
        "in": "query",
        "schema": {"type": "string"},
        "description": "<field> or -<field>; custom fields as custom.<api_name>",
    },
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Search"},
]


def _object_paths(
    snap, base: str, writable: bool, deletable: bool, bulk: bool = True
) -> dict[str, Any]:
    name = _component(snap.api_name)
    tag = [snap.api_name]
    record, write = _ref(name), _ref(f"{name}Write")
    page = {
        "type": "object",
        "required": ["results", "next"],
        "properties": {
            "results": {"type": "array", "items": record},
            "next": {"type": "string", "nullable": True},
        },
    }
    pk = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    collection: dict[str, Any] = {
        "get": {
            "operationId": f"{snap.api_name}_list",
            "tags": tag,
            "summary": "List; filter with <field>=, <field>__<op>=, custom.<name>=",
            "parameters": LIST_PARAMS,
            "responses": {"200": _json(page, "A page"), **_errors("400", "401", "403", "404")},
        }
    }
    item: dict[str, Any] = {
        "get": {
            "operationId": f"{snap.api_name}_retrieve",
            "parameters": [pk],
            "tags": tag,
            "responses": {"200": _json(record, "The record"), **_errors("401", "403", "404")},
        },
    }
    paths = {f"{base}/": collection, f"{base}/{{id}}/": item}
    if writable:
        body = {"required": True, "content": {"application/json": {"schema": write}}}
        collection["post"] = {
            "operationId": f"{snap.api_name}_create",
            "tags": tag,
            "requestBody": body,
            "responses": {
                "201": _json(record, "Created"),
                **_errors("400", "401", "403", "404", "409", "413"),
            },
        }
        item["patch"] = {
            "operationId": f"{snap.api_name}_update",
            "parameters": [pk],
            "tags": tag,
            "requestBody": body,
            "responses": {
                "200": _json(record, "Updated"),
                **_errors("400", "401", "403", "404", "409", "413"),
            },
        }
        result = {
            "type": "object",
            "properties": {
                "index": {"type": "integer"},
                "status": {"type": "string", "enum": ["created", "updated", "error"]},
                "id": {"type": "integer"},
                "errors": ERRORS["properties"]["errors"],
            },
        }
    if writable and bulk:
        paths[f"{base}/bulk/"] = {
            "post": {
                "operationId": f"{snap.api_name}_bulk_upsert",
                "tags": tag,
                "summary": "Upsert up to 1,000 records keyed by external_id",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["records"],
                                "properties": {
                                    "records": {
                                        "type": "array",
                                        "items": write,
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
                            "properties": {"results": {"type": "array", "items": result}},
                        },
                        "One result per record, in request order",
                    ),
                    **_errors("400", "401", "403", "404", "413"),
                },
            }
        }
    if deletable:
        item["delete"] = {
            "operationId": f"{snap.api_name}_destroy",
            "parameters": [pk],
            "tags": tag,
            "responses": {"204": {"description": "Deleted"}, **_errors("401", "403", "404")},
        }
    return paths


def tenant_objects(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the record endpoints of every object this tenant has."""
    from metadata.definitions import snapshot
    from metadata.registry import builtin_collections, builtin_objects
    from metadata.services.modules import modules_available

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Errors"] = ERRORS
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
        record = _record_schema(snap)
        schemas[_component(api_name)] = record
        schemas[f"{_component(api_name)}Write"] = _write_schema(record)
        writer = writers.get(api_name)
        writable = not builtin or (writer is not None and writer.create is not None)
        paths.update(
            _object_paths(
                snap,
                prefix,
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
                            "properties": {
                                "HotelReservations": {"type": "array", "items": {"type": "object"}}
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
                **_errors("400", "401", "403", "413"),
            },
        }
    }
    if not base:
        for prefix, module in MODULE_PATHS.items():
            if not modules.get(module, False):
                for path in [p for p in paths if p.startswith(prefix)]:
                    del paths[path]
    result["paths"] = dict(sorted(paths.items()))
    return result


def base_schema(request=None) -> dict:
    """The schema every tenant shares (no tenant-defined fields or objects)."""
    from drf_spectacular.generators import SchemaGenerator

    with base_only():
        return SchemaGenerator().get_schema(request=request, public=True)
