"""Spare schemas: sign-up renames one cloned ahead of time; a spare behind the template's
migrations is never used; racing sign-ups never share one; one filler at a time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.models import Tenant
from tenants.services import provisioning, spare_schemas
from tests.tenants.test_tenant_create import _schema_shape

pytestmark = pytest.mark.django_db


def _create(slug: str):
    return provisioning.tenant_create(
        name=f"Group {slug}",
        slug=slug,
        domain=f"{slug}.test",
        admin_email=f"ops@{slug}.example",
        currency="EUR",
        send_welcome_email=False,
    )


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace "
            "AND relkind IN ('r', 'p', 'S')",
            [schema],
        )
        return {row[0] for row in cursor.fetchall()}


def test_sign_up_renames_a_spare_and_the_workspace_is_complete():
    assert spare_schemas.spare_schemas_fill(size=1) == {
        "created": 1,
        "dropped": 0,
        "ready": 1,
        "busy": 0,
    }
    (spare,) = spare_schemas.spare_schema_names()
    assert spare.startswith("spare__")

    made = _create("harbour-spare")
    schema = made.tenant.schema_name
    assert spare_schemas.spare_schema_names() == []
    assert not schema_exists(spare) and schema_exists(schema)
    # The same tables, sequences, constraints (under the migrations' names) and indexes
    # as the template, and the seeded rows with them.
    assert _tables(schema) == _tables("tenant_template")
    clone, template = _schema_shape(schema), _schema_shape("tenant_template")
    assert clone["constraints"] == template["constraints"]
    assert clone["indexes"] == template["indexes"]
    with schema_context(schema):
        from crm.models import Guest
        from tenants.access.models import Role
        from tenants.users.models import User
        from tests.crm.factories import make_guest

        admin = User.objects.get(email="ops@harbour-spare.example")
        assert admin.role_assignments.filter(role__key="tenant_admin").exists()
        assert Role.objects.filter(key="front_office").exists()
        guest = make_guest(surname="Lima")
        assert Guest.objects.filter(pk=guest.pk, surname="Lima").exists()


def test_a_spare_behind_the_template_is_never_used_and_the_next_fill_replaces_it():
    spare_schemas.spare_schemas_fill(size=1)
    stale = spare_schemas.spare_schema_names()
    # A migration applied to the template after the spare was cloned.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenant_template.django_migrations (app, name, applied) "
            "VALUES ('crm', '9999_later', now())"
        )
    made = _create("harbour-stale")
    # Cloned, not renamed: the spare is still there, and the tenant has the migration.
    assert spare_schemas.spare_schema_names() == stale
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{made.tenant.schema_name}".django_migrations '
            "WHERE name = '9999_later'"
        )
        assert cursor.fetchone()[0] == 1
    result = spare_schemas.spare_schemas_fill(size=1)
    assert (result["dropped"], result["created"], result["ready"]) == (1, 1, 1)
    fresh = spare_schemas.spare_schema_names()
    assert len(fresh) == 1 and fresh != stale
    # A smaller pool drops the extra spare.
    assert spare_schemas.spare_schemas_fill(size=0)["dropped"] == 1
    assert spare_schemas.spare_schema_names() == []


def test_a_sign_up_with_the_pool_on_asks_for_a_refill(settings, django_capture_on_commit_callbacks):
    settings.TENANT_SPARE_SCHEMAS = 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _create("harbour-refill")
    assert provisioning._spare_schemas_refill in callbacks


def _conninfo() -> str:
    db = connection.settings_dict
    parts = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    parts["password"] = db["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def test_only_one_filler_runs_at_a_time():
    with psycopg.connect(_conninfo(), autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, %s)", [spare_schemas.LOCK_SPACE, spare_schemas.FILL]
        )
        assert spare_schemas.spare_schemas_fill(size=1)["busy"] == 1
        assert spare_schemas.spare_schema_names() == []
    assert spare_schemas.spare_schemas_fill(size=0)["busy"] == 0


def test_racing_sign_ups_never_share_a_spare():
    """Each thread has its own connection, so spares and tenants are committed for real
    (and removed at the end): one spare, three sign-ups at once."""
    threads = 3
    barrier = threading.Barrier(threads)

    def in_thread(fn, *args):
        try:
            return fn(*args)
        finally:
            connection.close()

    def sign_up(index: int) -> str:
        barrier.wait(timeout=30)
        return _create(f"race-spare-{index}").tenant.schema_name

    def cleanup() -> None:
        for tenant in Tenant.objects.filter(slug__startswith="race-spare-"):
            provisioning.tenant_delete(tenant=tenant)
        spare_schemas.spare_schemas_fill(size=0)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(in_thread, lambda: spare_schemas.spare_schemas_fill(size=1)).result()
        spares = pool.submit(in_thread, spare_schemas.spare_schema_names).result()
    assert len(spares) == 1
    try:
        with ThreadPoolExecutor(threads) as pool:
            schemas = list(pool.map(lambda i: in_thread(sign_up, i), range(threads)))
        with ThreadPoolExecutor(1) as pool:
            left = pool.submit(in_thread, spare_schemas.spare_schema_names).result()
            shapes = [pool.submit(in_thread, _tables, schema).result() for schema in schemas]
            template = pool.submit(in_thread, _tables, "tenant_template").result()
        assert len(set(schemas)) == threads
        assert left == []  # the spare taken by one of them, the others cloned
        assert all(shape == template for shape in shapes)
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(in_thread, cleanup).result()
