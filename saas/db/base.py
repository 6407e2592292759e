"""django-tenants' backend, starting the embedded PostgreSQL at the first connection
when no DATABASE_URL is configured (see saas/embedded.py), with a schema editor that
names every check constraint it adds (see saas/db/schema.py), and reading timestamps
with psycopg's C parser."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from psycopg import abc, adapters
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

from saas.db.schema import DatabaseSchemaEditor

TIMESTAMPTZ_OID = 1184


@cache
def timestamptz_loader(timezone) -> type[Loader] | None:
    """Django reads every ``timestamptz`` through a subclass of psycopg's pure-Python
    loader (a regular expression per value: an eighth of a 100-row list request). This
    loader parses with psycopg's C loader and then does what Django's does: put the
    value in the connection's time zone. None without psycopg's C implementation."""
    parser = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if parser is None or issubclass(parser, PythonTimestamptzLoader):
        return None
    c_loader: type[abc.Loader] = parser

    class CTimestamptzLoader(Loader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = c_loader(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=timezone)

    # Django's cursors compare it with the connection's zone before registering theirs.
    CTimestamptzLoader.timezone = timezone  # type: ignore[attr-defined]
    return CTimestamptzLoader


class DatabaseWrapper(TenantDatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def get_new_connection(self, conn_params):
        if getattr(settings, "ATRIUM_EMBEDDED_DATABASE", False):
            from saas import embedded

            # Starts the server if it is not running; the configured database is created
            # when missing (a test database is the test runner's to create).
            name = self.settings_dict["NAME"]
            test_name = (settings.DATABASES["default"].get("TEST") or {}).get("NAME")
            wanted = None if name in ("postgres", test_name) else name
            embedded.embedded_database_start(wanted)
        connection = super().get_new_connection(conn_params)
        loader = timestamptz_loader(self.timezone)
        if loader is not None:
            connection.adapters.register_loader(TIMESTAMPTZ_OID, loader)
        return connection
