"""The version of a tenant's rights, and the per-process caches keyed by it.

Reading rights costs four queries (roles, object rows, field rows, grants) and an API
key two; a request that only needs to know "is my copy still current" reads one row
instead. Numbers come from a sequence in a statement of their own (never reused, even
by a rolled-back change, and no volatile function inside an UPDATE, which Citus
refuses on distributed tables)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import connection

from tenants.access import registry

T = TypeVar("T")
_CACHE_MAX = 20_000
_cache: dict[Hashable, Any] = {}


def _tenant_key() -> tuple:
    # Keyed by the tenant row too: a schema name reused by a new tenant starts over.
    tenant = getattr(connection, "tenant", None)
    return (getattr(connection, "schema_name", "public"), getattr(tenant, "pk", None))


def access_version() -> int:
    """The tenant's rights version, read once per request (or block of work)."""
    cache = registry.request_cache()
    key = ("access_version", *_tenant_key())
    if cache is not None and key in cache:
        return cache[key]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM access_accessstate WHERE id = 1")
        row = cursor.fetchone()
    version = row[0] if row else 0
    if cache is not None:
        cache[key] = version
    return version


def access_version_bump() -> int:
    """A new rights version inside the caller's transaction (every change of rights)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('access_version_seq')")
        version = cursor.fetchone()[0]
        cursor.execute("UPDATE access_accessstate SET version = %s WHERE id = 1", [version])
        if cursor.rowcount == 0:  # a schema made before the row existed
            cursor.execute("INSERT INTO access_accessstate (id, version) VALUES (1, %s)", [version])
    cache = registry.request_cache()
    if cache is not None:
        cache[("access_version", *_tenant_key())] = version
    return version


def cached(kind: str, key: Hashable, build: Callable[[], T]) -> T:
    """``build()`` once per (tenant, rights version, kind, key) in this process."""
    full = (kind, *_tenant_key(), access_version(), key)
    try:
        return _cache[full]
    except KeyError:
        pass
    value = build()
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[full] = value
    return value


def cache_clear() -> None:
    _cache.clear()
