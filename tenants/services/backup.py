"""One hotel group to a file and back: ``tenant_export`` and ``tenant_import``.

The file is a gzipped tar archive:

- ``manifest.json``: format version, source slug and schema, the migrations applied to
  the schema, each table (columns in order, row count, file name) in foreign-key order,
  every sequence's position, the tenant's own indexes (filterable custom fields), and
  the public rows: the tenant, its domains and what upper layers registered (billing's
  subscription).
- ``data/<n>-<table>.copy``: the table's rows in PostgreSQL's COPY text format.

COPY through the application's own connection rather than ``pg_dump``: the text format
reads back on any PostgreSQL version the application runs on (the embedded server and
the machine's client tools may be of different majors), and the restore can go into a
schema of another name. The export reads every table in one snapshot (REPEATABLE READ).

A restore clones the target's template schema (structure, migration records, the
triggers and functions migrations installed), empties it, copies the rows in, puts each
sequence where it was and rebuilds the tenant's own indexes, all in one transaction with
the tenant and domain rows: it succeeds whole or leaves nothing behind. It requires the
target to be on the same migrations as the export (restore with the release that wrote
the file, then ``migrate_schemas``), and refuses a slug, schema or domain in use.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from tenants import validators
from tenants.models import Domain, Tenant

log = logging.getLogger(__name__)

FORMAT = "atrium-tenant-export"
VERSION = 1
COPY_CHUNK = 1 << 16
# Tenant fields carried in the file (identity -- id, slug, schema -- is the target's).
TENANT_FIELDS = (
    "name",
    "status",
    "base_currency",
    "enabled_currencies",
    "default_language",
    "enabled_languages",
    "timezone",
    "enabled_modules",
)


class PublicRows(Protocol):
    """Public-schema rows of a tenant that an upper layer owns (billing's subscription).
    ``export`` returns JSON-ready data or None; ``restore`` writes it back for the
    restored tenant, inside the restore's transaction."""

    key: str

    def export(self, tenant: Tenant) -> Any: ...

    def restore(self, tenant: Tenant, data: Any) -> list[str]: ...


_public_rows: dict[str, PublicRows] = {}


def backup_public_rows_register(handler: PublicRows) -> None:
    _public_rows[handler.key] = handler


@dataclass
class ExportResult:
    path: Path
    tables: int
    rows: int
    seconds: float


@dataclass
class ImportResult:
    tenant: Tenant
    domains: list[str]
    tables: int
    rows: int
    notes: list[str] = field(default_factory=list)


# --- Catalogue reads ----------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables(cursor, schema: str) -> list[str]:
    """Every table of the schema, parents before the tables that refer to them (ties by
    name; tables in a cycle last). Foreign keys are deferred in the restore, so the order
    only keeps a reader of the file on the natural path."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname
        """,
        [schema],
    )
    names = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT DISTINCT src.relname, dst.relname
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = src.relnamespace
        WHERE con.contype = 'f' AND n.nspname = %s AND dst.relnamespace = src.relnamespace
            AND src.oid <> dst.oid
        """,
        [schema],
    )
    parents: dict[str, set[str]] = {name: set() for name in names}
    for child, parent in cursor.fetchall():
        if child in parents and parent in parents:
            parents[child].add(parent)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(names):
        ready = [n for n in names if n not in placed and parents[n] <= placed]
        if not ready:  # a cycle: the rest in name order
            ready = [n for n in names if n not in placed]
        for name in ready:
            ordered.append(name)
            placed.add(name)
    return ordered


def _columns(cursor, schema: str, table: str) -> list[str]:
    cursor.execute(
        """
        SELECT a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
            AND a.attgenerated = ''
        ORDER BY a.attnum
        """,
        [schema, table],
    )
    return [row[0] for row in cursor.fetchall()]


def _sequences(cursor, schema: str) -> dict[str, list]:
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind = 'S' ORDER BY c.relname
        """,
        [schema],
    )
    positions = {}
    for (name,) in cursor.fetchall():
        cursor.execute(f"SELECT last_value, is_called FROM {_q(schema)}.{_q(name)}")
        last_value, is_called = cursor.fetchone()
        positions[name] = [int(last_value), bool(is_called)]
    return positions


def _own_indexes(cursor, schema: str, template: str) -> list[dict]:
    """Indexes of the tenant that its template lacks (filterable custom fields), not
    those behind constraints."""
    cursor.execute(
        """
        SELECT i.relname, t.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid)
        FROM pg_index ix
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s
            AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = ix.indexrelid)
            AND NOT EXISTS (
                SELECT 1 FROM pg_class i2 JOIN pg_namespace n2 ON n2.oid = i2.relnamespace
                WHERE n2.nspname = %s AND i2.relname = i.relname
            )
        ORDER BY i.relname
        """,
        [schema, template],
    )
    indexes = []
    for name, table, unique, definition in cursor.fetchall():
        _head, _sep, using = definition.partition(" USING ")
        indexes.append({"name": name, "table": table, "unique": unique, "using": using})
    return indexes


def _migrations(cursor, schema: str) -> list[list[str]]:
    cursor.execute(f"SELECT app, name FROM {_q(schema)}.django_migrations ORDER BY app, name")
    return [[app, name] for app, name in cursor.fetchall()]


# --- Export -------------------------------------------------------------------------------


def _tenant_public(tenant: Tenant) -> dict:
    data = {name: getattr(tenant, name) for name in TENANT_FIELDS}
    data["slug"] = tenant.slug
    data["schema_name"] = tenant.schema_name
    data["created"] = tenant.created.isoformat() if tenant.created else None
    return data


def _add_bytes(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(payload))


def tenant_export(*, tenant: Tenant, path: str | Path) -> ExportResult:
    """Write the tenant's schema data and public rows to ``path`` (gzipped tar).

    Written to a temporary file beside ``path`` and renamed at the end, so ``path`` is
    either a complete export or absent."""
    if tenant.kind != Tenant.Kind.HOTEL_GROUP:
        raise ValidationError({"slug": [f"{tenant.slug} is not a hotel group."]})
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = tenant.schema_name
    template = settings.TENANT_BASE_SCHEMA
    total_rows = 0
    partial = path.with_name(path.name + ".partial")
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if outermost:
                # One snapshot for every table: rows written meanwhile are all in or all out.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            tables = _tables(cursor, schema)
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": timezone.now().isoformat(),
                "server_version": getattr(connection, "pg_version", None),
                "source": {"slug": tenant.slug, "schema": schema},
                "migrations": _migrations(cursor, schema),
                "sequences": _sequences(cursor, schema),
                "indexes": _own_indexes(cursor, schema, template),
                "tenant": _tenant_public(tenant),
                "domains": [
                    {"domain": d.domain, "is_primary": d.is_primary}
                    for d in Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain")
                ],
                "public": {
                    key: handler.export(tenant) for key, handler in sorted(_public_rows.items())
                },
                "tables": [],
            }
            with tarfile.open(partial, "w:gz") as archive:
                for number, table in enumerate(tables, start=1):
                    if table == "django_migrations":
                        continue  # the target's own records, checked against "migrations"
                    columns = _columns(cursor, schema, table)
                    member = f"data/{number:03d}-{table}.copy"
                    rows = 0
                    with tempfile.TemporaryFile() as spool:
                        column_list = ", ".join(_q(c) for c in columns)
                        with cursor.cursor.copy(
                            f"COPY {_q(schema)}.{_q(table)} ({column_list}) TO STDOUT"
                        ) as copy:
                            for chunk in copy:
                                data = bytes(chunk)
                                rows += data.count(b"\n")
                                spool.write(data)
                        info = tarfile.TarInfo(member)
                        info.size = spool.tell()
                        info.mtime = int(time.time())
                        spool.seek(0)
                        archive.addfile(info, spool)
                    total_rows += rows
                    manifest["tables"].append(
                        {"name": table, "columns": columns, "rows": rows, "file": member}
                    )
                _add_bytes(
                    archive,
                    "manifest.json",
                    json.dumps(manifest, indent=1, default=str).encode(),
                )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(
        path=path,
        tables=len(manifest["tables"]),
        rows=total_rows,
        seconds=time.perf_counter() - started,
    )


# --- Import -------------------------------------------------------------------------------


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.extractfile("manifest.json")
    except KeyError:
        member = None
    if member is None:
        raise ValidationError({"file": ["Not a tenant export: it has no manifest.json."]})
    manifest = json.loads(member.read())
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValidationError(
            {"file": [f"Not a tenant export of format {FORMAT} version {VERSION}."]}
        )
    return manifest


def tenant_import_check(*, slug: str, domains: list[str]) -> None:
    """Refuse to restore over anything that exists: the slug, its schema, a domain."""
    errors: dict[str, list[str]] = {}
    try:
        validators.validate_slug(slug)
    except ValidationError as exc:
        errors["slug"] = exc.messages
    else:
        schema = validators.slug_to_schema(slug)
        if Tenant.objects.filter(slug=slug).exists() or schema_exists(schema, case_sensitive=False):
            errors["slug"] = [
                f"A tenant with slug {slug} (or its schema {schema}) exists: a restore never "
                "writes over it. Delete it first, or restore under another slug."
            ]
    taken = sorted(Domain.objects.filter(domain__in=domains).values_list("domain", flat=True))
    if taken:
        errors["domain"] = [f"Domain {name} belongs to another tenant." for name in taken]
    if errors:
        raise ValidationError(errors)


def _domains_for(manifest: dict, slug: str, domain: str | None) -> tuple[list[dict], list[str]]:
    """The same slug gets its domains back; a new slug gets one primary domain (given,
    or <slug>.<tenant domain suffix>), since the old names are the old tenant's."""
    notes: list[str] = []
    if domain:
        return [{"domain": domain, "is_primary": True}], notes
    if slug == manifest["source"]["slug"]:
        return list(manifest["domains"]), notes
    derived = f"{slug}.{settings.ATRIUM_PROVISIONING_DOMAIN_SUFFIX}"
    dropped = [d["domain"] for d in manifest["domains"]]
    if dropped:
        notes.append(f"Domains of {manifest['source']['slug']} not restored: {', '.join(dropped)}")
    return [{"domain": derived, "is_primary": True}], notes


def tenant_import(
    *,
    path: str | Path,
    slug: str | None = None,
    domain: str | None = None,
    template_schema: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Restore an export as a new tenant: under its own slug (the original is gone) or
    under ``slug`` (a copy beside it). Raises ``ValidationError`` and writes nothing
    when the slug, schema or a domain is taken, or the migrations differ."""
    from tenants.services.provisioning import schema_clone, tenant_template_ensure

    say = progress or (lambda _message: None)
    with tarfile.open(Path(path), "r:gz") as archive:
        manifest = _read_manifest(archive)
        slug = slug or manifest["source"]["slug"]
        domain_rows, notes = _domains_for(manifest, slug, domain)
        for row in domain_rows:
            validators.validate_hostname(row["domain"])
        tenant_import_check(slug=slug, domains=[row["domain"] for row in domain_rows])
        template = template_schema or tenant_template_ensure().schema_name
        schema = validators.slug_to_schema(slug)
        with connection.cursor() as cursor:
            ours = {tuple(m) for m in _migrations(cursor, template)}
        theirs = {tuple(m) for m in manifest["migrations"]}
        if ours != theirs:
            missing = sorted(theirs - ours)[:5]
            extra = sorted(ours - theirs)[:5]
            raise ValidationError(
                {
                    "file": [
                        "The export was written on other migrations than this installation "
                        f"has (only in the export: {missing or 'none'}; only here: "
                        f"{extra or 'none'}). Restore with the release that wrote it, then "
                        "run migrate_schemas."
                    ]
                }
            )
        rows = 0
        with transaction.atomic():
            source = manifest["tenant"]
            tenant = Tenant(
                schema_name=schema,
                slug=slug,
                kind=Tenant.Kind.HOTEL_GROUP,
                **{name: source[name] for name in TENANT_FIELDS},
            )
            tenant.save()
            if source.get("created"):
                Tenant.objects.filter(pk=tenant.pk).update(
                    created=datetime.fromisoformat(source["created"])
                )
            for row in domain_rows:
                Domain.objects.create(tenant=tenant, **row)
            say(f"cloning {template} into {schema}")
            schema_clone(template_schema=template, schema_name=schema)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                present = set(_tables(cursor, schema)) - {"django_migrations"}
                listed = {table["name"] for table in manifest["tables"]}
                if present != listed:
                    raise ValidationError(
                        {"file": [f"Tables differ from this installation's: {present ^ listed}"]}
                    )
                # The template's seeded rows (roles, default objects) give way to the file's.
                cursor.execute(
                    "TRUNCATE " + ", ".join(f"{_q(schema)}.{_q(t)}" for t in sorted(present))
                )
                for table in manifest["tables"]:
                    columns = table["columns"]
                    missing_columns = set(columns) - set(_columns(cursor, schema, table["name"]))
                    if missing_columns:
                        raise ValidationError(
                            {"file": [f"{table['name']} lacks columns {sorted(missing_columns)}."]}
                        )
                    member = archive.extractfile(table["file"])
                    if member is None:
                        raise ValidationError({"file": [f"{table['file']} is missing."]})
                    column_list = ", ".join(_q(c) for c in columns)
                    with cursor.cursor.copy(
                        f"COPY {_q(schema)}.{_q(table['name'])} ({column_list}) FROM STDIN"
                    ) as copy:
                        while chunk := member.read(COPY_CHUNK):
                            copy.write(chunk)
                    rows += table["rows"]
                    say(f"{table['name']}: {table['rows']} rows")
                for name, (last_value, is_called) in manifest["sequences"].items():
                    cursor.execute(
                        "SELECT setval(%s::regclass, %s, %s)",
                        [f"{_q(schema)}.{_q(name)}", last_value, is_called],
                    )
                for index in manifest["indexes"]:
                    cursor.execute(
                        f"CREATE {'UNIQUE ' if index['unique'] else ''}INDEX IF NOT EXISTS "
                        f"{_q(index['name'])} ON {_q(schema)}.{_q(index['table'])} "
                        f"USING {index['using']}"
                    )
                # Checked now, not at commit: a broken reference names itself here.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for key, data in manifest.get("public", {}).items():
                handler = _public_rows.get(key)
                if handler is None:
                    notes.append(f"No handler for public rows {key!r}: not restored.")
                elif data is not None:
                    notes.extend(handler.restore(tenant, data))
    if not connection.in_atomic_block:
        connection.close()  # a fresh backend after a clone (see tenant_create)
    return ImportResult(
        tenant=tenant,
        domains=[row["domain"] for row in domain_rows],
        tables=len(manifest["tables"]),
        rows=rows,
        notes=notes,
    )


def tenant_export_path(*, tenant: Tenant, folder: str | Path | None = None) -> Path:
    """Where the export taken before a deletion goes: ATRIUM_TENANT_EXPORTS_DIR."""
    base = Path(folder or settings.ATRIUM_TENANT_EXPORTS_DIR)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return base / f"{tenant.slug}-{stamp}.atrium.tar.gz"
