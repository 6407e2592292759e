"""django-tenants' backend, starting the embedded PostgreSQL at the first connection
when no DATABASE_URL is configured (see saas/embedded.py), with a schema editor that
names every check constraint it adds (see saas/db/schema.py)."""

from __future__ import annotations

from django.conf import settings
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

from saas.db.schema import DatabaseSchemaEditor


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
        return super().get_new_connection(conn_params)
