"""``migrate_schemas`` that skips tenants already at the head.

The stock executor runs Django's ``migrate`` once per schema, which loads the migration
state and emits post-migrate signals every time: a no-op over hundreds of tenants takes
minutes. Here we read every schema's ``django_migrations`` in one query and hand to the
stock executor only the schemas that miss a migration.
"""

from __future__ import annotations

from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor as stock_get_executor
from django_tenants.migration_executors.standard import StandardExecutor
from django_tenants.utils import get_public_schema_name, get_tenant_database_alias

from tenants.context import schema_public_set

# Options under which "all recorded migrations present" does not mean "nothing to do".
_PLAIN_OPTIONS_OFF = ("fake", "fake_initial", "plan", "prune", "check_unapplied", "run_syncdb")


def schemas_behind(schema_names: list[str], database: str | None = None) -> list[str]:
    """The schemas among ``schema_names`` missing at least one known migration."""
    if not schema_names:
        return []
    connection = connections[database or get_tenant_database_alias()]
    expected = {
        (app, name) for app, name in MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    }
    schema_public_set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [list(schema_names)],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        applied: dict[str, set[tuple[str, str]]] = {name: set() for name in with_table}
        if with_table:
            union = " UNION ALL ".join(
                f"SELECT %s, app, name FROM {connection.ops.quote_name(name)}.django_migrations"
                for name in with_table
            )
            cursor.execute(union, list(with_table))
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return [name for name in schema_names if name not in applied or not expected <= applied[name]]


class SkipUpToDateExecutor(StandardExecutor):
    codename = "skip-up-to-date"

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        # With an app label or a target migration (possibly backwards), every schema must
        # go through the stock path: "has all migrations" says nothing about the target.
        targeted = self.options.get("app_label") or self.options.get("migration_name")
        plain = (
            not self.args
            and not targeted
            and not any(self.options.get(opt) for opt in _PLAIN_OPTIONS_OFF)
        )
        public = get_public_schema_name()
        if plain:
            others = [name for name in tenants if name != public]
            behind = set(schemas_behind(others, self.options.get("database")))
            skipped = len(others) - len(behind)
            tenants = [name for name in tenants if name == public or name in behind]
            if skipped and int(self.options.get("verbosity", 1)) >= 1:
                self.logger_skip(skipped)
        super().run_migrations(tenants=tenants)

    def logger_skip(self, count: int) -> None:
        import sys

        sys.stdout.write(f"[skip-up-to-date] {count} tenant schema(s) already at the head\n")


def get_executor(codename=None):
    if codename in (None, SkipUpToDateExecutor.codename):
        return SkipUpToDateExecutor
    return stock_get_executor(codename)
