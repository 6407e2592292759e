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


# Version rows other layers keep (metadata's definitions): read together with the
# rights version in one round trip per request. name -> SQL of a scalar subquery.
_sources: dict[str, str] = {"access": "SELECT version FROM access_accessstate WHERE id = 1"}


def version_source_register(name: str, sql: str) -> None:
    """``sql`` is a scalar subquery giving the current version of ``name``."""
    _sources[name] = sql


def version_of(name: str) -> int:
    """A version, read with all the others once per request (or block of work) when a
    request cache is open; otherwise read on its own."""
    cache = registry.request_cache()
    key = ("versions", *_tenant_key())
    if cache is not None and key in cache:
        return cache[key][name]
    names = list(_sources) if cache is not None else [name]
    select = ", ".join(f"({_sources[n]})" for n in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select}")  # noqa: S608 - registered SQL, no user text
        row = cursor.fetchone()
    found = {n: (v or 0) for n, v in zip(names, row or [0] * len(names), strict=True)}
    if cache is not None:
        cache[key] = found
    return found[name]


def version_note(name: str, value: int) -> None:
    """A change of ``name`` made in this request: later reads in it see ``value``."""
    cache = registry.request_cache()
    key = ("versions", *_tenant_key())
    if cache is not None and key in cache:
        cache[key][name] = value


def access_version() -> int:
    """The tenant's rights version, read once per request (or block of work)."""
    return version_of("access")


def access_version_bump() -> int:
    """A new rights version inside the caller's transaction (every change of rights)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('access_version_seq')")
        version = cursor.fetchone()[0]
        cursor.execute("UPDATE access_accessstate SET version = %s WHERE id = 1", [version])
        if cursor.rowcount == 0:  # a schema made before the row existed
            cursor.execute("INSERT INTO access_accessstate (id, version) VALUES (1, %s)", [version])
    version_note("access", version)
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
