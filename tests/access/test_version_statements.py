"""Version bumps draw their number from the sequence in a statement of its own, then
UPDATE with the plain value: Citus refuses a volatile function (nextval) inside an
UPDATE of a distributed table, so the one-statement form fails on a sharded tenant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from metadata.definitions import version_bump
from tenants.access.seeding import rights_version_bump
from tenants.access.versioning import access_version_bump

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
UPDATE_WITH_NEXTVAL = re.compile(r"UPDATE\b[^;\"]*?\bnextval\s*\(", re.IGNORECASE | re.DOTALL)


def _stored(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {table} WHERE id = 1")
        return cursor.fetchone()[0]


def _two_statements(queries, sequence: str, table: str, version: int) -> None:
    # (The search_path is set again when the schema editor's cursor opens.)
    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert statements == [
        f"SELECT nextval('{sequence}')",
        f"UPDATE {table} SET version = {version} WHERE id = 1",
    ]


def test_metadata_version_bump_draws_then_updates(tenant_a):
    with tenant_context(tenant_a):
        before = _stored("metadata_metadatastate")
        with CaptureQueriesContext(connection) as queries:
            version = version_bump()

        assert version > before and _stored("metadata_metadatastate") == version
        _two_statements(queries, "metadata_version_seq", "metadata_metadatastate", version)


def test_access_version_bump_draws_then_updates(tenant_a):
    with tenant_context(tenant_a):
        with CaptureQueriesContext(connection) as queries:
            version = access_version_bump()

        assert _stored("access_accessstate") == version
        _two_statements(queries, "access_version_seq", "access_accessstate", version)


def test_seeding_version_bump_in_a_migration_draws_then_updates(tenant_a):
    with tenant_context(tenant_a):
        with connection.schema_editor() as editor, CaptureQueriesContext(connection) as queries:
            rights_version_bump(editor)
        version = _stored("access_accessstate")

        _two_statements(queries, "access_version_seq", "access_accessstate", version)


def test_no_code_or_migration_puts_nextval_inside_an_update():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for package in ("saas", "tenants", "metadata", "crm", "billing")
        for path in sorted((ROOT / package).rglob("*.py"))
        for match in UPDATE_WITH_NEXTVAL.finditer(path.read_text())
    ]
    assert offenders == []


def test_the_source_check_would_see_the_old_form():
    assert UPDATE_WITH_NEXTVAL.search(
        "UPDATE access_accessstate SET version = nextval('access_version_seq') WHERE id = 1"
    )
    assert not UPDATE_WITH_NEXTVAL.search("SELECT nextval('access_version_seq')")
