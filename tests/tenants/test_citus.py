"""Citus schema-based sharding (tenants/citus.py), checked on plain PostgreSQL: the
detection says no and provisioning runs no Citus statement; with Citus made to look
present (its functions and catalogues faked inside the test's transaction), the clone is
distributed in the same transaction and checked, and the commands issue the right SQL.

Run against a real Citus coordinator (sharding on), the plain-PostgreSQL tests skip and
the last one checks the real thing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_exists

from tenants import citus
from tenants.models import Tenant
from tenants.services.provisioning import tenant_create

pytestmark = pytest.mark.django_db

SHARDING = "citus.enable_schema_based_sharding"


def _create(slug: str):
    return tenant_create(
        name=f"{slug.title()} Inns",
        slug=slug,
        domain=f"{slug}.test",
        admin_email=f"a@{slug}.test",
        currency="EUR",
        send_welcome_email=False,
    )


@pytest.fixture
def plain_postgresql(db):
    if citus.citus_present():
        pytest.skip("a real Citus coordinator: the plain-PostgreSQL behaviour does not apply")


@pytest.fixture
def fake_citus(plain_postgresql, monkeypatch):
    """Just enough of Citus for provisioning: ``citus_schema_distribute`` records the
    schema and the sharding setting it ran under, and fills the two catalogues the check
    reads (as temporary tables, which name lookup finds before any other). Everything
    is made inside the test's transaction and rolled back with it."""
    monkeypatch.setattr(citus, "citus_sharding_on", lambda: True)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE pg_dist_schema (schemaid oid, colocationid int);
            CREATE TEMP TABLE pg_dist_partition (logicalrelid oid, colocationid int);
            CREATE TEMP TABLE fake_distributed (schema_name text, sharding text);
            CREATE TEMP TABLE fake_left_out (relname text);
            CREATE FUNCTION public.citus_schema_distribute(target regnamespace)
            RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO fake_distributed VALUES (
                    target::text, current_setting('citus.enable_schema_based_sharding', true)
                );
                INSERT INTO pg_dist_schema VALUES (target, 77);
                INSERT INTO pg_dist_partition
                SELECT c.oid, 77 FROM pg_class c
                WHERE c.relnamespace = target AND c.relkind IN ('r', 'p')
                  AND c.relname NOT IN (SELECT relname FROM fake_left_out);
            END $$;
            """
        )
    return connection


def _statements(queries) -> list[str]:
    return [q["sql"] for q in queries]


def test_plain_postgresql_is_not_citus(plain_postgresql):
    assert citus.citus_present() is False
    assert citus.citus_sharding_on() is False


def test_the_setting_alone_does_not_make_citus(plain_postgresql):
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {SHARDING} = on")
        cursor.execute(f"SELECT current_setting('{SHARDING}', true)")
        assert cursor.fetchone()[0] == "on"
    assert citus.citus_sharding_on() is False


def test_plain_provisioning_asks_and_runs_no_citus_statement(plain_postgresql):
    with CaptureQueriesContext(connection) as queries:
        _create("plainly")

    statements = _statements(queries)
    assert citus.SHARDING_ON_SQL in statements
    assert not [sql for sql in statements if "citus" in sql.lower() and "pg_extension" not in sql]
    assert schema_exists("plainly")


def test_with_citus_the_clone_is_distributed_in_the_same_transaction(fake_citus):
    with CaptureQueriesContext(connection) as queries:
        _create("sharded")

    statements = _statements(queries)
    suspend = statements.index(f"SET LOCAL {SHARDING} = off")
    clone = next(i for i, sql in enumerate(statements) if sql.startswith("SELECT clone_schema("))
    distribute = statements.index("SELECT citus_schema_distribute('sharded'::regnamespace)")
    check = next(i for i, sql in enumerate(statements) if "pg_dist_partition" in sql)
    resume = statements.index(f"SET LOCAL {SHARDING} = on")
    assert suspend < clone < distribute < check < resume
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name, sharding FROM fake_distributed")
        assert cursor.fetchall() == [("sharded", "off")]
        cursor.execute(f"SELECT current_setting('{SHARDING}', true)")
        assert cursor.fetchone()[0] == "on"
        # Every table of the new schema is known as distributed.
        cursor.execute(citus.UNDISTRIBUTED_SQL, ["sharded"])
        assert cursor.fetchall() == []
    assert Tenant.objects.filter(slug="sharded").exists()


def test_a_table_citus_did_not_distribute_fails_provisioning_and_leaves_nothing(fake_citus):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO fake_left_out VALUES ('crm_guest'), ('crm_property')")

    with pytest.raises(citus.CitusError) as caught:
        _create("halfway")

    assert caught.value.message == (
        "Schema halfway was distributed but 2 of its tables are not Citus tables: "
        "crm_guest, crm_property."
    )
    assert not schema_exists("halfway")
    assert not Tenant.objects.filter(slug="halfway").exists()


def test_tenant_move_on_plain_postgresql_says_citus_is_absent(plain_postgresql, tenant_a):
    with pytest.raises(CommandError, match="Citus is not installed in this database"):
        call_command("tenant_move", "alpha", "worker-2", "5432")


def test_tenant_move_refuses_unknown_slug_and_bad_port(tenant_a):
    with pytest.raises(CommandError, match="No hotel group with slug 'nobody'"):
        call_command("tenant_move", "nobody", "worker-2", "5432")
    with pytest.raises(CommandError, match="70000 is not a port number"):
        call_command("tenant_move", "alpha", "worker-2", "70000")


def test_tenant_move_issues_citus_schema_move(plain_postgresql, tenant_a, monkeypatch):
    monkeypatch.setattr(citus, "citus_present", lambda: True)
    issued = []

    def record_only(execute, sql, params, many, context):
        if "citus_schema_move" in sql:
            issued.append((sql, params))
            return None
        return execute(sql, params, many, context)

    out = StringIO()
    with connection.execute_wrapper(record_only):
        call_command("tenant_move", "alpha", "worker-2", "5432", stdout=out)

    assert issued == [(citus.MOVE_SQL, ["alpha", "worker-2", 5432])]
    assert issued[0][0] == "SELECT citus_schema_move(%s::regnamespace, %s, %s)"
    assert "Moved Alpha Hotels (schema alpha) to worker-2:5432." in out.getvalue()


def test_tenant_move_passes_on_what_citus_refuses(plain_postgresql, tenant_a, monkeypatch):
    monkeypatch.setattr(citus, "citus_present", lambda: True)

    def refuse(execute, sql, params, many, context):
        if "citus_schema_move" in sql:
            raise DataError("cannot move shard to the same node")
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(refuse),
        pytest.raises(
            CommandError,
            match="^Citus did not move schema alpha: cannot move shard to the same node$",
        ),
    ):
        call_command("tenant_move", "alpha", "worker-1", "5432")


def test_tenant_list_placement_on_plain_postgresql(plain_postgresql, tenant_a):
    out, err = StringIO(), StringIO()
    call_command("tenant_list", "--placement", stdout=out, stderr=err)

    assert "Citus is not installed in this database" in err.getvalue()
    lines = out.getvalue().splitlines()
    assert "PLACEMENT" in lines[0]
    assert len(lines) == 3 and all(" — " in line for line in lines[1:])

    out = StringIO()
    call_command("tenant_list", "--placement", "--json", stdout=out, stderr=StringIO())
    assert [row["placement"] for row in json.loads(out.getvalue())] == [None, None]


def test_tenant_list_without_placement_has_no_placement_column(tenant_a):
    out = StringIO()
    call_command("tenant_list", stdout=out)
    assert "PLACEMENT" not in out.getvalue()


def test_tenant_list_placement_reads_the_citus_views(
    plain_postgresql, tenant_a, tenant_b, monkeypatch
):
    monkeypatch.setattr(citus, "citus_present", lambda: True)
    with connection.cursor() as cursor:
        # Temporary views stand in for Citus's: alpha distributed (two tables, one node),
        # bravo not.
        cursor.execute(
            """
            CREATE TEMP VIEW citus_schemas AS
            SELECT 'alpha'::regnamespace AS schema_name, 5 AS colocation_id;
            CREATE TEMP VIEW citus_shards AS
            SELECT * FROM (VALUES (5, 'worker-1', 5432), (5, 'worker-1', 5432))
                AS s (colocation_id, nodename, nodeport);
            """
        )
    with CaptureQueriesContext(connection) as queries:
        out = StringIO()
        call_command("tenant_list", "--placement", "--json", stdout=out)

    assert citus.PLACEMENTS_SQL in _statements(queries)
    rows = {row["slug"]: row["placement"] for row in json.loads(out.getvalue())}
    assert rows == {"alpha": "worker-1:5432", "bravo": None}


def test_on_a_real_citus_cluster_a_new_tenant_is_distributed(db):
    if not citus.citus_sharding_on():
        pytest.skip("needs a Citus coordinator with schema-based sharding on")

    _create("spread")

    with connection.cursor() as cursor:
        cursor.execute(citus.UNDISTRIBUTED_SQL, ["spread"])
        assert cursor.fetchall() == []
    assert "spread" in citus.schema_placements()
    out = StringIO()
    call_command("tenant_list", "--placement", "--json", stdout=out)
    assert all(row["placement"] for row in json.loads(out.getvalue()))
