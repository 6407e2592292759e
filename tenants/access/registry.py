"""What the access layer knows about objects and fields, declared by upper layers.

``tenants`` cannot import ``crm`` or ``metadata``, so they describe themselves here:

* ``object_register(api_name, module=..., fields=..., sensitive_fields=...)`` for
  built-in objects, called from ``AppConfig.ready()`` (crm: guest, reservation...).
* ``sensitive_field_register(object_api_name, field_api_name)`` marks one more field
  sensitive (hidden unless a role or temporary grant names it explicitly).
* ``catalogue_provider_register(provider)`` for things only known at run time in the
  current tenant schema (metadata: custom fields, custom record types, fields marked
  sensitive). ``provider()`` returns an iterable of ``ObjectSpec``; it is called at
  most once per request (cached) in the tenant's schema.

Everything is keyed by strings (object and field api_names) so no table of the upper
layers is ever referenced. An object nobody registered still works: it has no module,
no known field list and only the default sensitive field names below.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

# Field names that are sensitive on every object, whoever declares the object, so that
# an identity document or birth date is never shown by default even if an upper layer
# forgot to register it.
DEFAULT_SENSITIVE_FIELD_NAMES: frozenset[str] = frozenset(
    {
        "identity_number",
        "identity_document",
        "identity_type",
        "passport_number",
        "id_number",
        "birth_date",
        "date_of_birth",
        "birthday",
    }
)


@dataclass(frozen=True)
class ObjectSpec:
    api_name: str
    module: str | None = None
    label: str = ""
    fields: frozenset[str] = field(default_factory=frozenset)
    sensitive_fields: frozenset[str] = field(default_factory=frozenset)
    # Path from the object's rows to a hotel (property) id, for staff limited to some
    # hotels: "property_id", "id" for hotels themselves, "reservations__property_id" for
    # guests. None: the object is not tied to hotels.
    property_path: str | None = None
    # Whether a record that the path reaches no hotel from (a guest with no stay yet) is
    # visible to hotel-limited staff: a new profile belongs to no hotel until it books.
    unattached_visible: bool = False

    def is_sensitive(self, field_api_name: str) -> bool:
        return (
            field_api_name in self.sensitive_fields
            or field_api_name in DEFAULT_SENSITIVE_FIELD_NAMES
        )


CatalogueProvider = Callable[[], Iterable[ObjectSpec]]

_objects: dict[str, ObjectSpec] = {}
_providers: list[CatalogueProvider] = []
# Set by the access middleware for the length of one request: provider output cached.
_request_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "access_request_cache", default=None
)


def _merge(old: ObjectSpec, new: ObjectSpec) -> ObjectSpec:
    return replace(
        old,
        module=new.module or old.module,
        label=new.label or old.label,
        fields=old.fields | new.fields,
        sensitive_fields=old.sensitive_fields | new.sensitive_fields,
        property_path=new.property_path or old.property_path,
        unattached_visible=new.unattached_visible or old.unattached_visible,
    )


def object_register(
    api_name: str,
    *,
    module: str | None = None,
    label: str = "",
    fields: Iterable[str] = (),
    sensitive_fields: Iterable[str] = (),
    property_path: str | None = None,
    unattached_visible: bool = False,
) -> ObjectSpec:
    """Declare an object (or add to its declaration: registering twice merges)."""
    if not api_name or api_name == "*" or api_name.startswith("module:"):
        raise ValueError(f"{api_name!r} cannot be an object api_name")
    sensitive = frozenset(sensitive_fields)
    spec = ObjectSpec(
        api_name=api_name,
        module=module,
        label=label,
        fields=frozenset(fields) | sensitive,
        sensitive_fields=sensitive,
        property_path=property_path,
        unattached_visible=unattached_visible,
    )
    _objects[api_name] = _merge(_objects[api_name], spec) if api_name in _objects else spec
    return _objects[api_name]


def sensitive_field_register(object_api_name: str, field_api_name: str) -> None:
    object_register(object_api_name, sensitive_fields=[field_api_name])


def catalogue_provider_register(provider: CatalogueProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def catalogue_provider_unregister(provider: CatalogueProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def object_catalogue() -> dict[str, ObjectSpec]:
    """Every object known in the current tenant schema: registered ones merged with
    what the providers return."""
    cache = _request_cache.get()
    if cache is not None and "catalogue" in cache:
        return cache["catalogue"]
    merged = dict(_objects)
    for provider in _providers:
        for spec in provider():
            merged[spec.api_name] = (
                _merge(merged[spec.api_name], spec) if spec.api_name in merged else spec
            )
    if cache is not None:
        cache["catalogue"] = merged
    return merged


def object_spec(api_name: str) -> ObjectSpec:
    return object_catalogue().get(api_name) or ObjectSpec(api_name=api_name)


def module_of(api_name: str) -> str | None:
    return object_spec(api_name).module


@contextmanager
def catalogue_cached():
    """Cache provider output for a block of work outside a request (a task, a command),
    as the middleware does for a request: ``with registry.catalogue_cached(): ...``."""
    token = request_cache_begin()
    try:
        yield
    finally:
        request_cache_end(token)


def request_cache() -> dict | None:
    """The dict cached values live in for the current request or block of work."""
    return _request_cache.get()


def request_cache_begin() -> contextvars.Token:
    return _request_cache.set({})


def request_cache_end(token: contextvars.Token) -> None:
    _request_cache.reset(token)
