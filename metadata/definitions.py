"""The per-tenant definitions cache.

Every process keeps, per schema, a snapshot of the object and field definitions with the
version it was built from. Each read checks the version row (one primary-key lookup);
a change made by any other process bumps that version in its own transaction, so no
process serves stale definitions after the change commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection, models

from metadata.models import FieldDefinition, ObjectDefinition
from metadata.registry import BuiltinObject, builtin_object, builtin_objects
from tenants.context import current_schema, current_tenant
from tenants.errors import NotFound


@dataclass
class ObjectSnapshot:
    definition: ObjectDefinition
    builtin: BuiltinObject | None
    fields: dict[str, FieldDefinition] = field(default_factory=dict)  # archived included

    @property
    def api_name(self) -> str:
        return self.definition.api_name

    @property
    def active_fields(self) -> dict[str, FieldDefinition]:
        return {k: f for k, f in self.fields.items() if f.archived_at is None}

    def model(self) -> type[models.Model]:
        """The table holding this object's records (the generic Record for custom ones)."""
        if self.builtin is not None:
            return self.builtin.model_class()
        from metadata.models import Record

        return Record

    @property
    def values_column(self) -> str:
        return "custom" if self.builtin is not None else "data"


_cache: dict[tuple[str, int | None], tuple[int, dict[str, ObjectSnapshot]]] = {}


VERSION_SQL = "SELECT version FROM metadata_metadatastate WHERE id = 1"


def metadata_version() -> int:
    """The stored version, read with the other version rows once per request."""
    from tenants.access.versioning import version_of

    return version_of("metadata")


def version_bump() -> int:
    """Next version, inside the caller's transaction. The row lock orders concurrent
    writers (the second one draws its number after the first commits), and the sequence
    never reuses a number a rolled-back change drew."""
    with connection.cursor() as cursor:
        # The number drawn in a statement of its own: Citus refuses a volatile function
        # inside an UPDATE of a distributed table.
        cursor.execute("SELECT nextval('metadata_version_seq')")
        version = cursor.fetchone()[0]
        cursor.execute("UPDATE metadata_metadatastate SET version = %s WHERE id = 1", [version])
    from tenants.access.versioning import version_note

    version_note("metadata", version)
    return version


def builtin_rows_ensure() -> bool:
    """Rows for built-in objects registered in code but not yet in this schema (a new
    built-in type reaches existing tenants without a per-tenant data migration)."""
    known = set(ObjectDefinition.objects.values_list("api_name", flat=True))
    missing = [obj for name, obj in builtin_objects().items() if name not in known]
    if missing:
        ObjectDefinition.objects.bulk_create(
            [
                ObjectDefinition(
                    api_name=obj.api_name,
                    label=obj.label,
                    label_plural=obj.label_plural,
                    icon=obj.icon,
                    color=obj.color,
                    module=obj.module,
                    is_builtin=True,
                )
                for obj in missing
            ],
            ignore_conflicts=True,
        )
        # A new version, so no process keys a snapshot with these rows to an old one
        # (and, if this transaction rolls back, to any version that will exist).
        version_bump()
        return True
    return False


_pinned: ContextVar[dict[str, ObjectSnapshot] | None] = ContextVar("metadata_pin", default=None)
_pinned_version: ContextVar[int | None] = ContextVar("metadata_pin_version", default=None)


@contextmanager
def snapshot_pinned() -> Iterator[dict[str, ObjectSnapshot]]:
    """Use one snapshot for a batch (a bulk request, an import chunk) instead of checking
    the version for every record. Definitions changed meanwhile apply to the next batch."""
    pinned = _pinned.get()
    version = version_current()
    version_token = _pinned_version.set(version)
    token = _pinned.set(pinned if pinned is not None else _snapshot_at(version))
    try:
        yield _pinned.get() or {}
    finally:
        _pinned.reset(token)
        _pinned_version.reset(version_token)


def version_current() -> int:
    """The metadata version in force: the pinned one inside ``snapshot_pinned``, else the
    stored one (one indexed read). Caches of definitions key on it."""
    pinned = _pinned_version.get()
    return pinned if pinned is not None else metadata_version()


def snapshot() -> dict[str, ObjectSnapshot]:
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    return _snapshot_at(metadata_version())


def _snapshot_at(version: int) -> dict[str, ObjectSnapshot]:
    tenant = current_tenant()
    # Keyed by the tenant row too: a schema name reused by a new tenant starts over.
    key = (current_schema(), getattr(tenant, "pk", None))
    hit = _cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    if builtin_rows_ensure():
        version = metadata_version()
    objects = {
        o.api_name: ObjectSnapshot(definition=o, builtin=builtin_object(o.api_name))
        for o in ObjectDefinition.objects.all()
    }
    by_id = {snap.definition.pk: snap for snap in objects.values()}
    for f in FieldDefinition.objects.order_by("section", "position", "api_name"):
        by_id[f.object_id].fields[f.api_name] = f
    _cache[key] = (version, objects)
    return objects


def object_snapshot(api_name: str, *, include_archived: bool = False) -> ObjectSnapshot:
    snap = snapshot().get(api_name)
    if snap is None or (snap.definition.archived_at is not None and not include_archived):
        raise NotFound(f"There is no object named {api_name!r}.", field="object")
    return snap


def record_exists(*, object_api_name: str, record_id: int) -> bool:
    """Whether the object (built-in or tenant-defined) has a record with this id."""
    snap = snapshot().get(object_api_name)
    if snap is None:
        return False
    queryset = snap.model()._default_manager.filter(pk=record_id)
    if snap.builtin is None:
        queryset = queryset.filter(object_id=snap.definition.pk)
    return queryset.exists()
