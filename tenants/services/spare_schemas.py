"""Spare tenant schemas, cloned from the template ahead of sign-up.

Cloning the template is about nine tenths of provisioning, and its cost grows with the
server's catalogue (0.6 s with 10 tenants, several seconds with hundreds). A small pool
of spare schemas, cloned by a background task, lets sign-up *rename* one instead
(``ALTER SCHEMA ... RENAME``, a catalogue update of one row), so a new hotel group's
workspace is ready in tens of milliseconds whatever the number of tenants.

A spare is named ``spare__<hex>``: slugs cannot hold two hyphens in a row, so no tenant
schema ever has that form. Spares are no tenant's, so ``migrate_schemas`` does not
migrate them; instead a spare is used only while its ``django_migrations`` rows match
the template's, and the next fill drops the stale ones. Who takes or drops a spare holds
a transaction-level advisory lock on its name, so two sign-ups never take the same one
and a fill never drops one a sign-up is taking.

``TENANT_SPARE_SCHEMAS`` sets how many the pool keeps (0 turns it off: every sign-up
clones, as before). The pool is filled by ``tenants.tasks.spare_schemas_fill`` after each
sign-up that took a spare, and by beat every few minutes.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import connection, transaction

PREFIX = "spare__"
# Advisory lock keys: the first number says "Atrium spare schemas"; the second is the
# spare's hashed name (take/drop) or FILL (one filler at a time).
LOCK_SPACE = 7_340_117
FILL = 0


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _fingerprint(cursor, schema: str) -> str | None:
    """A digest of the migrations recorded in a schema (None when it has none)."""
    cursor.execute(
        "SELECT md5(string_agg(app || '.' || name, ',' ORDER BY app, name)) "
        f"FROM {_quote(schema)}.django_migrations"
    )
    return cursor.fetchone()[0]


def spare_schema_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY nspname",
            [PREFIX],
        )
        return [row[0] for row in cursor.fetchall()]


def _lock(cursor, name: str) -> bool:
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [LOCK_SPACE, name])
    return bool(cursor.fetchone()[0])


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
    return cursor.fetchone() is not None


def spare_schema_take(*, schema_name: str, template_schema: str) -> bool:
    """Inside the provisioning transaction: rename a spare that is as migrated as the
    template to ``schema_name``. False when there is none (the caller clones)."""
    if not connection.in_atomic_block:
        raise RuntimeError("A spare schema is taken inside the provisioning transaction.")
    names = spare_schema_names()
    if not names:
        return False
    with connection.cursor() as cursor:
        wanted = _fingerprint(cursor, template_schema)
        for name in names:
            # Locked by another sign-up taking it, or by a fill dropping it: next one.
            # Gone since the listing: another sign-up took it and committed.
            if not _lock(cursor, name) or not _exists(cursor, name):
                continue
            if _fingerprint(cursor, name) != wanted:
                continue  # stale after a migration; the next fill drops it
            cursor.execute(f"ALTER SCHEMA {_quote(name)} RENAME TO {_quote(schema_name)}")
            return True
    return False


def spare_schemas_fill(*, size: int | None = None) -> dict[str, int]:
    """Drop stale spares and clone new ones until ``size`` (default
    ``TENANT_SPARE_SCHEMAS``) match the template. One filler at a time: a fill that
    finds another running returns at once with ``busy``."""
    from tenants.services.provisioning import schema_clone, tenant_template_ensure

    size = settings.TENANT_SPARE_SCHEMAS if size is None else size
    result = {"created": 0, "dropped": 0, "ready": 0, "busy": 0}
    template = tenant_template_ensure().schema_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, FILL])
        if not cursor.fetchone()[0]:
            return {**result, "busy": 1}
    try:
        with connection.cursor() as cursor:
            wanted = _fingerprint(cursor, template)
        ready = 0
        for name in spare_schema_names():
            with transaction.atomic(), connection.cursor() as cursor:
                if not _lock(cursor, name) or not _exists(cursor, name):
                    continue
                if _fingerprint(cursor, name) == wanted and ready < size:
                    ready += 1
                    continue
                cursor.execute(f"DROP SCHEMA {_quote(name)} CASCADE")
                result["dropped"] += 1
        while ready < size:
            name = PREFIX + secrets.token_hex(6)
            with transaction.atomic():
                schema_clone(template_schema=template, schema_name=name)
                ready += 1
            result["created"] += 1
        result["ready"] = ready
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, FILL])
    if result["created"] and not connection.in_atomic_block:
        # As after a sign-up's clone: a fresh backend keeps catalogue caches small.
        connection.close()
    return result
