"""Citus schema-based sharding, when the database is a Citus coordinator.

With ``citus.enable_schema_based_sharding`` on, every new schema becomes a distributed
schema: its tables live together on one worker node and move between nodes as a unit.
Provisioning asks ``citus_sharding_on`` and, when it says yes, distributes the cloned
schema explicitly (``schema_distribute``); the operator commands read placements and move
tenants with the other functions. On plain PostgreSQL the detection says no and nothing
here is called, except the commands' clear refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DatabaseError, connection

from tenants.errors import ApplicationError

# The extension installed in this database, and schema-based sharding switched on for
# this session (a setting unknown to the server reads as NULL, not an error).
SHARDING_ON_SQL = (
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') "
    "AND coalesce(current_setting('citus.enable_schema_based_sharding', true), '') = 'on'"
)
PRESENT_SQL = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"
DISTRIBUTE_SQL = "SELECT citus_schema_distribute(%s::regnamespace)"
# Tables (plain and partitioned) of the schema that are not single-shard tables of the
# schema's colocation group. This is what the ``citus_tables`` view lists (it reads
# pg_dist_partition), read from its catalogues directly: the view also sizes every shard
# on every worker, which a sign-up should not wait for.
UNDISTRIBUTED_SQL = """
SELECT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_dist_schema s ON s.schemaid = n.oid
LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid AND p.colocationid = s.colocationid
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND p.logicalrelid IS NULL
ORDER BY c.relname
"""
# A distributed schema's tables are colocated single-shard tables: one node per schema.
PLACEMENTS_SQL = """
SELECT DISTINCT s.schema_name::text, sh.nodename, sh.nodeport
FROM citus_schemas s
JOIN citus_shards sh ON sh.colocation_id = s.colocation_id
ORDER BY 1, 2, 3
"""
MOVE_SQL = "SELECT citus_schema_move(%s::regnamespace, %s, %s)"


class CitusError(ApplicationError):
    default_code = "citus"


class CitusAbsent(CitusError):
    default_code = "citus_absent"


@dataclass(frozen=True)
class Placement:
    node: str
    port: int

    def __str__(self) -> str:
        return f"{self.node}:{self.port}"


def citus_present() -> bool:
    """The citus extension is installed in this database."""
    with connection.cursor() as cursor:
        cursor.execute(PRESENT_SQL)
        return bool(cursor.fetchone()[0])


def citus_sharding_on() -> bool:
    """New schemas would be distributed: the extension is there and the setting is on."""
    with connection.cursor() as cursor:
        cursor.execute(SHARDING_ON_SQL)
        return bool(cursor.fetchone()[0])


def sharding_suspend() -> None:
    """Until the end of the current transaction, new schemas stay local to the
    coordinator. A schema whose tables a PL/pgSQL function creates (django-tenants'
    ``clone_schema``) is otherwise listed as distributed with tables Citus never
    distributed, and can then be neither moved nor undistributed."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")


def sharding_resume() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.enable_schema_based_sharding = on")


def schema_distribute(*, schema_name: str) -> None:
    """Make ``schema_name`` a distributed schema, then check that every one of its tables
    is a Citus table; raise ``CitusError`` (rolling back the caller's transaction) if
    one is left behind."""
    with connection.cursor() as cursor:
        cursor.execute(DISTRIBUTE_SQL, [schema_name])
        cursor.execute(UNDISTRIBUTED_SQL, [schema_name])
        left = [row[0] for row in cursor.fetchall()]
    if left:
        shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        raise CitusError(
            f"Schema {schema_name} was distributed but {len(left)} of its tables are not "
            f"Citus tables: {shown}."
        )


def schema_placements() -> dict[str, Placement]:
    """The node each distributed schema lives on, by schema name."""
    if not citus_present():
        raise CitusAbsent("Citus is not installed in this database; schemas have no placement.")
    with connection.cursor() as cursor:
        cursor.execute(PLACEMENTS_SQL)
        return {schema: Placement(node, port) for schema, node, port in cursor.fetchall()}


def schema_move(*, schema_name: str, node: str, port: int) -> None:
    """Move a distributed schema to another worker node (online: Citus copies it with
    logical replication, then blocks writes for the switch-over)."""
    if not citus_present():
        raise CitusAbsent("Citus is not installed in this database; there is nothing to move.")
    try:
        with connection.cursor() as cursor:
            cursor.execute(MOVE_SQL, [schema_name, node, port])
    except DatabaseError as exc:
        # Citus explains itself (unknown node, already there, ...): pass it on as is.
        raise CitusError(f"Citus did not move schema {schema_name}: {exc}".strip()) from exc
