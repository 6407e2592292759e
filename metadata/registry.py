"""Built-in record types that upper layers (crm) register in ``AppConfig.ready()``.

metadata knows nothing about crm: it keeps, per api name, the model that stores the
records (with a JSONB ``custom`` column), the module it belongs to, its labels, and how
the generic record doors (REST collections, bulk upsert) read and write it -- the
``RecordWriter`` crm registers, so no layer above lists crm's objects again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class RecordWriter:
    """The owner's entry points for writes through the generic doors. Each takes the
    acting principal and a JSON-shaped ``data`` dict (ids for links), validates its
    types and keys, and calls the owner's services, which ask the access policy.

    * ``create(*, actor, data) -> Model``
    * ``update(*, actor, record, data) -> Model``
    * ``bulk_key``: the field a bulk upsert is keyed by; ``bulk_find(*, item)`` returns
      the record an item updates (or None), ``bulk_prepare(*, item, found)`` returns the
      data to create or update with.
    """

    create: Callable[..., models.Model] | None = None
    update: Callable[..., models.Model] | None = None
    bulk_key: str | None = None
    bulk_find: Callable[..., models.Model | None] | None = None
    bulk_prepare: Callable[..., dict] | None = None
    # Set-based upsert of many records (``(*, actor, items) -> results``); without it a
    # bulk request goes record by record through create/update.
    bulk_upsert: Callable[..., list[dict]] | None = None
    # Keys a write accepts beside the model's columns (related collections, links).
    extra_write_keys: Mapping[str, Any] = field(default_factory=dict)
    # What a create and an update take (model columns and extra keys): the OpenAPI
    # document's write schemas are made of these, so they cannot drift from the writer.
    create_keys: Callable[[], frozenset[str]] = frozenset
    update_keys: Callable[[], frozenset[str]] = frozenset
    required: tuple[str, ...] = ()
    # At least one of these (non-empty) in a create.
    required_one_of: tuple[str, ...] = ()
    # JSON Schema keywords the service's own rules add to a key (ranges, patterns).
    schema_hints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The same, for a create only (e.g. the few statuses a record may start in).
    create_schema_hints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltinObject:
    api_name: str
    model: str  # "app_label.ModelName", resolved lazily (apps may not be ready yet)
    module: str
    label: str
    label_plural: str
    icon: str = ""
    color: str = ""
    # Standard columns that exist on the model, so custom fields cannot reuse the names.
    customisable: bool = True
    # The REST collection (``/api/v1/<collection>/``); "" for objects without one.
    collection: str = ""
    # Standard fields a list's ``q`` searches (each only if the reader may read it).
    search_fields: tuple[str, ...] = ()
    writer: RecordWriter | None = None
    # Lists a record carries beside its columns (a guest's e-mails and phones), read for
    # many records at once: ``(ids) -> {id: {key: [...]}}``, with the keys it fills.
    related_lists: Callable[[list[int]], dict[int, dict[str, Any]]] | None = None
    related_keys: tuple[str, ...] = ()
    # Their JSON Schema in the OpenAPI document.
    related_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def model_class(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.model)


_builtin: dict[str, BuiltinObject] = {}


def builtin_object_register(obj: BuiltinObject) -> None:
    _builtin[obj.api_name] = obj


def builtin_objects() -> dict[str, BuiltinObject]:
    return dict(_builtin)


def builtin_object(api_name: str) -> BuiltinObject | None:
    return _builtin.get(api_name)


def builtin_collections() -> dict[str, str]:
    """REST collection segment -> object api name."""
    return {obj.collection: obj.api_name for obj in _builtin.values() if obj.collection}
