from __future__ import annotations

import pytest
from django.db import connection

from tenants.migration_executor import schemas_behind

pytestmark = pytest.mark.django_db


def test_migrated_schemas_are_not_behind():
    assert schemas_behind(["alpha", "bravo", "tenant_template"]) == []


def test_schema_missing_a_migration_is_behind():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bravo.django_migrations WHERE app = 'crm'")

    assert schemas_behind(["alpha", "bravo"]) == ["bravo"]


def test_schema_without_migrations_table_is_behind():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA empty_one")

    assert schemas_behind(["alpha", "empty_one"]) == ["empty_one"]
