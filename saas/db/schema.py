"""The schema editor: Django's PostgreSQL one, except that a field's own CHECK (a
``Positive*Field``'s ``>= 0``) is never written inline in the column definition.

Django writes ``ADD COLUMN "vip_level" smallint NOT NULL CHECK ("vip_level" >= 0)``
and lets PostgreSQL name the constraint. Citus refuses unnamed constraints on a
distributed table ("all constraints in Citus must have explicit names"), so on a
schema-sharded cluster such a migration would stop at the first tenant. Here the column
is created without it and the check follows as ``ALTER TABLE ... ADD CONSTRAINT <name>
CHECK (...)``, under the name Django itself gives the check when a field is altered (so
later alterations find and drop it the usual way). Same result on plain PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

_BaseSchemaEditor: Any = TenantDatabaseWrapper.SchemaEditorClass


class DatabaseSchemaEditor(_BaseSchemaEditor):
    def create_model(self, model):
        checks = self._field_checks(model._meta.local_fields)
        with _inline_checks_held_back(field for field, _ in checks):
            super().create_model(model)
        self._named_checks_add(model, checks)

    def add_field(self, model, field):
        checks = self._field_checks([field])
        with _inline_checks_held_back(field for field, _ in checks):
            super().add_field(model, field)
        self._named_checks_add(model, checks)

    def _field_checks(self, fields: Iterable[Any]) -> list[tuple[Any, str]]:
        found = []
        for field in fields:
            if field.column is None:
                continue
            check = field.db_parameters(connection=self.connection)["check"]
            if check:
                found.append((field, check))
        return found

    def _named_checks_add(self, model, checks: list[tuple[Any, str]]) -> None:
        for field, check in checks:
            name = self._create_index_name(model._meta.db_table, [field.column], suffix="_check")
            self.execute(self._create_check_sql(model, name, check))


@contextmanager
def _inline_checks_held_back(fields: Iterable[Any]) -> Iterator[None]:
    """While Django writes the column SQL, these fields report no check of their own.

    The field objects are the migration state's (or, when a test database is built
    without migrations, the model's); the override lives on the instance for the length
    of one DDL call and is removed after it, whatever happens."""
    patched = []
    for field in fields:
        original = field.db_parameters

        def without_check(connection, _original=original):
            return {**_original(connection), "check": None}

        field.db_parameters = without_check
        patched.append(field)
    try:
        yield
    finally:
        for field in patched:
            del field.db_parameters
