from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.migration_executors.standard import StandardExecutor

from tenants.migration_executor import SkipUpToDateExecutor, schemas_behind

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


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options, skips",
    [
        ({}, True),
        ({"app_label": "crm"}, False),
        ({"app_label": "crm", "migration_name": "0003"}, False),
        ({"fake": True}, False),
    ],
)
def test_only_plain_runs_skip_schemas_at_the_head(monkeypatch, options, skips):
    # A target (possibly backwards) must reach every schema, up to date or not.
    handed = []
    monkeypatch.setattr(
        StandardExecutor, "run_migrations", lambda self, tenants=None: handed.extend(tenants)
    )
    executor = SkipUpToDateExecutor([], {"verbosity": 0, **options})
    executor.run_migrations(tenants=["public", "alpha", "bravo"])
    assert handed == (["public"] if skips else ["public", "alpha", "bravo"])
