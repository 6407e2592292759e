"""The schema editor names every field check it adds (saas/db/schema.py): Citus refuses
the unnamed inline CHECK Django writes for a Positive*Field."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, migrations, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.test.utils import isolate_apps
from django_tenants.utils import schema_context

from crm.models import Guest, Property
from saas.db.schema import DatabaseSchemaEditor
from tests.crm.factories import make_guest

pytestmark = pytest.mark.django_db


def _new_field(name: str) -> models.Field:
    field = models.PositiveSmallIntegerField(db_default=0)
    field.set_attributes_from_name(name)
    return field


def _checks(schema: str, table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = %s AND t.relname = %s AND c.contype = 'c'
            """,
            [schema, table],
        )
        return dict(cursor.fetchall())


def test_the_backend_uses_the_naming_schema_editor():
    assert isinstance(connection.schema_editor(), DatabaseSchemaEditor)


def test_adding_a_positive_field_writes_a_named_separate_check(tenant_a):
    field = _new_field("vip_tier")
    field.model = Guest
    with schema_context(tenant_a.schema_name), connection.schema_editor(collect_sql=True) as editor:
        editor.add_field(Guest, field)
        name = editor._create_index_name("crm_guest", ["vip_tier"], suffix="_check")

    add_column, *rest = editor.collected_sql
    assert add_column.startswith('ALTER TABLE "crm_guest" ADD COLUMN "vip_tier" smallint')
    assert "CHECK" not in add_column
    assert f'ALTER TABLE "crm_guest" ADD CONSTRAINT "{name}" CHECK ("vip_tier" >= 0);' in rest
    assert [sql for sql in editor.collected_sql if "CHECK" in sql] == [
        f'ALTER TABLE "crm_guest" ADD CONSTRAINT "{name}" CHECK ("vip_tier" >= 0);'
    ]


@isolate_apps("crm")
def test_creating_a_table_writes_its_field_checks_as_named_constraints():
    class Scratch(models.Model):
        nights = models.PositiveIntegerField()
        adults = models.PositiveSmallIntegerField(null=True)
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "crm"
            db_table = "crm_scratch_checks"

        def __str__(self) -> str:
            return self.label

    with connection.schema_editor(collect_sql=True) as editor:
        editor.create_model(Scratch)

    create, *rest = editor.collected_sql
    assert create.startswith('CREATE TABLE "crm_scratch_checks"') and "CHECK" not in create
    named = [sql for sql in rest if " CHECK " in sql]
    assert sorted(named) == sorted(
        f'ALTER TABLE "crm_scratch_checks" ADD CONSTRAINT '
        f'"{editor._create_index_name("crm_scratch_checks", [column], suffix="_check")}" '
        f'CHECK ("{column}" >= 0);'
        for column in ("nights", "adults")
    )
    # The field objects are left as they were.
    assert Scratch._meta.get_field("nights").db_parameters(connection)["check"] == '"nights" >= 0'


def test_a_field_without_a_check_is_added_as_django_adds_it():
    field = models.CharField(max_length=20, null=True)
    field.set_attributes_from_name("note")
    with connection.schema_editor(collect_sql=True) as editor:
        editor.add_field(Property, field)
    assert editor.collected_sql == [
        'ALTER TABLE "crm_property" ADD COLUMN "note" varchar(20) NULL;'
    ]


def test_a_migration_adding_a_positive_field_runs_across_tenant_schemas(tenant_a, tenant_b):
    # The migration graph as migrate_schemas sees it, then one more migration on top.
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    migration = migrations.Migration("9999_vip_tier", "crm")
    migration.operations = [migrations.AddField("guest", "vip_tier", _new_field("vip_tier"))]
    schemas = [settings.TENANT_BASE_SCHEMA, tenant_a.schema_name, tenant_b.schema_name]

    for schema in schemas:
        with schema_context(schema), connection.schema_editor() as editor:
            migration.apply(state.clone(), editor)

    with connection.schema_editor() as editor:
        name = editor._create_index_name("crm_guest", ["vip_tier"], suffix="_check")
    for schema in schemas:
        assert _checks(schema, "crm_guest")[name] == "CHECK ((vip_tier >= 0))"
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            guest = make_guest()
            with connection.cursor() as cursor:
                cursor.execute("UPDATE crm_guest SET vip_tier = 3 WHERE id = %s", [guest.pk])
                with pytest.raises(IntegrityError, match=name), transaction.atomic():
                    cursor.execute("UPDATE crm_guest SET vip_tier = -1 WHERE id = %s", [guest.pk])
