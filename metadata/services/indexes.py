"""Per-tenant expression indexes for filterable custom fields.

Each tenant has its own tables, so each tenant gets its own indexes. Marking a field
filterable records the request (status ``pending``) and queues a background job that
builds the index with CREATE INDEX CONCURRENTLY, so staff keep writing meanwhile; the
field's ``index_status`` shows where it stands. The selector in
``metadata.selectors.records`` writes the very same expression, so PostgreSQL can use it.
"""

from __future__ import annotations

from django.db import connection, transaction

from metadata.definitions import ObjectSnapshot, object_snapshot
from metadata.models import FieldDefinition, FieldType
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict
from tenants.jobs.models import Job

JOB_KIND = "metadata.index_build"
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
    snap = object_snapshot(field.object.api_name, include_archived=True)
    table = snap.model()._meta.db_table
    quote = connection.ops.quote_name
    expression = value_expression(snap, field)
    using = "gin" if field.type == FieldType.MULTI_CHOICE else "btree"
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


def index_build(job: Job) -> dict:
    """Job handler: build one field's index concurrently (never inside a transaction)."""
    field = (
        FieldDefinition.objects.select_related("object").filter(pk=job.payload["field_id"]).first()
    )
    if field is None or not field.filterable:
        return {"skipped": True}
    FieldDefinition.objects.filter(pk=field.pk).update(
        index_status=FieldDefinition.IndexStatus.BUILDING
    )
    quote = connection.ops.quote_name
    # CONCURRENTLY cannot run inside a transaction block; a worker runs jobs outside one.
    # Called inside one (a test's transaction), the index is built the plain way.
    concurrently = not connection.in_atomic_block
    try:
        with connection.cursor() as cursor:
            # A build interrupted earlier leaves an INVALID index that IF NOT EXISTS would
            # keep; drop it first.
            cursor.execute(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
                [field.index_name],
            )
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute(f"DROP INDEX IF EXISTS {quote(field.index_name)}")
            cursor.execute(_index_sql(field, concurrently=concurrently))
            # Statistics on the new expression, so the planner knows how selective a
            # filter on it is (without them it guesses, and may walk another index).
            snap = object_snapshot(field.object.api_name, include_archived=True)
            cursor.execute(f"ANALYZE {quote(snap.model()._meta.db_table)}")
    except Exception as exc:
        FieldDefinition.objects.filter(pk=field.pk).update(
            index_status=FieldDefinition.IndexStatus.FAILED, index_error=str(exc)[:1000]
        )
        raise
    FieldDefinition.objects.filter(pk=field.pk).update(
        index_status=FieldDefinition.IndexStatus.READY, index_error=""
    )
    return {"index": field.index_name}
