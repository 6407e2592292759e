"""Per-tenant expression indexes for filterable custom fields.

Each tenant has its own tables, so each tenant gets its own indexes. Marking a field
filterable records the request (status ``pending``) and queues a background job that
builds the index with CREATE INDEX CONCURRENTLY, so staff keep writing meanwhile; the
field's ``index_status`` shows where it stands. The selector in
``metadata.selectors.records`` writes the very same expression, so PostgreSQL can use it.

Builds on one table run one at a time. Two CREATE INDEX CONCURRENTLY on the same table
deadlock: each waits for the transactions older than its own snapshot, the other
build's among them, and PostgreSQL aborts one ("deadlock detected"). A blocking advisory
lock would not help, since a session waiting on it holds a snapshot the running build
waits for; so a build polls a per-table advisory lock, and each try is a statement of
its own that ends at once. A build still aborted by a deadlock (with some other DDL) is
tried again; one that failed for good can be retried (``field_index_retry``, or a field
PATCH with ``filterable: true``). Status changes take a new metadata version, so every
process's describe shows the real status.
"""

from __future__ import annotations

import logging
import time

from django.db import OperationalError, connection, transaction

from metadata.definitions import ObjectSnapshot, object_snapshot, version_bump
from metadata.models import FieldDefinition, FieldType
from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import ApplicationError, Conflict
from tenants.jobs.models import Job

log = logging.getLogger(__name__)

JOB_KIND = "metadata.index_build"
# A build waits this long for another build on its table before it gives up (failed,
# retryable); builds of 1M rows take about a minute.
LOCK_WAIT_SECONDS = 30 * 60
LOCK_POLL_SECONDS = 0.5
DEADLOCK_ATTEMPTS = 3
# deadlock_detected, lock_not_available
RETRYABLE_SQLSTATES = {"40P01", "55P03"}
NUMERIC = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.PERCENT, FieldType.REFERENCE}


def value_expression(snap: ObjectSnapshot, field: FieldDefinition, *, table: str = "") -> str:
    """SQL of the comparable value of ``field`` in a row (shared by index and queries)."""
    quote = connection.ops.quote_name
    column = f"{quote(table)}.{quote(snap.values_column)}" if table else quote(snap.values_column)
    key = field.api_name  # validated: [a-z0-9_] only, safe inside a literal
    if field.type == FieldType.MONEY:
        return f"((({column} -> '{key}') ->> 'amount')::numeric)"
    if field.type in NUMERIC:
        return f"(({column} ->> '{key}')::numeric)"
    if field.type == FieldType.MULTI_CHOICE:
        return f"({column} -> '{key}')"
    return f"({column} ->> '{key}')"


def _index_sql(field: FieldDefinition, *, concurrently: bool = True) -> str:
    """A GIN index for multi-choice; otherwise a btree in the lists' own order --
    descending, empty values last, as ``ordering=-custom.x`` sorts -- so a "top N" page
    reads the index instead of sorting; with a sort companion, this field then that one."""
    snap = object_snapshot(field.object.api_name, include_archived=True)
    table = snap.model()._meta.db_table
    quote = connection.ops.quote_name
    expression = value_expression(snap, field)
    using = "gin" if field.type == FieldType.MULTI_CHOICE else "btree"
    if using == "btree":
        companion = snap.active_fields.get(field.index_sort_field or "")
        if companion is not None:
            expression = f"{expression}, {value_expression(snap, companion)} DESC NULLS LAST"
        else:
            expression = f"{expression} DESC NULLS LAST"
    where = f" WHERE object_id = {int(snap.definition.pk)}" if snap.builtin is None else ""
    return (
        f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}"
        f"IF NOT EXISTS {quote(field.index_name)} "
        f"ON {quote(table)} USING {using} ({expression}){where}"
    )


@transaction.atomic
def field_index_request(*, field: FieldDefinition, actor: Principal) -> Job:
    actor.require_admin("index fields")
    from metadata.services.definitions import MAX_INDEXED_PER_OBJECT
    from tenants.jobs.services import job_enqueue

    if field.type == FieldType.LONG_TEXT:
        raise ApplicationError(
            "Long text fields cannot be filterable; use a text field.",
            code="not_filterable",
            field="filterable",
        )
    indexed = (
        FieldDefinition.objects.filter(object_id=field.object_id, filterable=True)
        .exclude(pk=field.pk)
        .count()
    )
    if indexed >= MAX_INDEXED_PER_OBJECT:
        raise Conflict(
            f"{field.object.api_name} already has {MAX_INDEXED_PER_OBJECT} filterable fields, "
            "the budget; make another one non-filterable first.",
            code="index_budget",
            field="filterable",
        )
    field.filterable = True
    field.index_status = FieldDefinition.IndexStatus.PENDING
    field.index_error = ""
    field.save(update_fields=["filterable", "index_status", "index_error", "updated"])
    return job_enqueue(kind=JOB_KIND, payload={"field_id": field.pk}, created_by=actor.user)


def field_index_drop(*, field: FieldDefinition) -> None:
    """Drop the index (inside the caller's transaction: a brief lock, no long build)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(field.index_name)}")
    field.filterable = False
    field.index_status = FieldDefinition.IndexStatus.NONE
    field.save(update_fields=["filterable", "index_status", "updated"])


def field_index_retry(*, field: FieldDefinition, actor: Principal) -> Job:
    """Queue the build of a filterable field's index again after it failed."""
    actor.require_admin("index fields")
    if not field.filterable or field.index_status != FieldDefinition.IndexStatus.FAILED:
        raise Conflict(
            f"The index of {field.api_name} is {field.index_status}; only a failed build "
            "can be retried.",
            code="index_not_failed",
            field="filterable",
        )
    return field_index_request(field=field, actor=actor)


def _status_set(field: FieldDefinition, status: str, error: str = "") -> None:
    # A new metadata version with it: processes cache definitions by version, and
    # describe would otherwise show the status they cached ("pending") for good.
    with transaction.atomic():
        FieldDefinition.objects.filter(pk=field.pk).update(
            index_status=status, index_error=error[:1000]
        )
        version_bump()


def _lock_key(table: str) -> str:
    return f"atrium:index_build:{current_schema()}.{table}"


def _table_lock_take(table: str) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key(table)])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Another index build on {table} held it for over {LOCK_WAIT_SECONDS} s."
                )
            time.sleep(LOCK_POLL_SECONDS)


def _table_lock_release(table: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key(table)])
    except Exception:  # a broken connection has released its session locks already
        log.warning("could not release the index build lock of %s", table, exc_info=True)


def _retryable(exc: Exception) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def _build(field: FieldDefinition, table: str, *, concurrently: bool) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # A build interrupted earlier (a killed worker, a deadlock) leaves an INVALID
        # index that IF NOT EXISTS would keep; drop it first.
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            [field.index_name],
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute(
                f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS "
                f"{quote(field.index_name)}"
            )
        cursor.execute(_index_sql(field, concurrently=concurrently))
        # The field's index of an earlier shape (another sort companion, none): gone once
        # the new one stands, so lists are never left without one.
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'i' "
            "AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname LIKE %s AND c.relname <> %s",
            [field.index_prefix.replace("_", r"\_") + "%", field.index_name],
        )
        for (stale,) in cursor.fetchall():
            cursor.execute(
                f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {quote(stale)}"
            )
        # Statistics on the new expression, so the planner knows how selective a
        # filter on it is (without them it guesses, and may walk another index).
        cursor.execute(f"ANALYZE {quote(table)}")


def index_build(job: Job) -> dict:
    """Job handler: build one field's index concurrently (never inside a transaction).
    Safe to run again: an index already there is kept, a half-built one rebuilt."""
    field = (
        FieldDefinition.objects.select_related("object").filter(pk=job.payload["field_id"]).first()
    )
    if field is None or not field.filterable:
        return {"skipped": True}
    snap = object_snapshot(field.object.api_name, include_archived=True)
    table = snap.model()._meta.db_table
    # CONCURRENTLY cannot run inside a transaction block; a worker runs jobs outside one.
    # Called inside one (a test's transaction), the index is built the plain way.
    concurrently = not connection.in_atomic_block
    try:
        _table_lock_take(table)
    except Exception as exc:
        _status_set(field, FieldDefinition.IndexStatus.FAILED, str(exc))
        raise
    try:
        _status_set(field, FieldDefinition.IndexStatus.BUILDING)
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                _build(field, table, concurrently=concurrently)
                break
            except OperationalError as exc:
                if not (concurrently and _retryable(exc) and attempt < DEADLOCK_ATTEMPTS):
                    raise
                log.warning("index %s: %s; trying again", field.index_name, exc)
                time.sleep(attempt)
    except Exception as exc:
        _status_set(field, FieldDefinition.IndexStatus.FAILED, str(exc))
        raise
    finally:
        _table_lock_release(table)
    _status_set(field, FieldDefinition.IndexStatus.READY)
    return {"index": field.index_name}


def index_build_abandoned(job: Job) -> None:
    """The build's workers kept dying (jobs sweeper): the field says so, and can be
    retried, instead of showing "building" for good."""
    field = FieldDefinition.objects.filter(pk=job.payload.get("field_id")).first()
    if field is None or field.index_status not in (
        FieldDefinition.IndexStatus.PENDING,
        FieldDefinition.IndexStatus.BUILDING,
    ):
        return
    _status_set(field, FieldDefinition.IndexStatus.FAILED, job.error)
