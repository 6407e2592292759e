"""A hotel group exported to a file, deleted and restored under another slug comes back
table by table, row by row, with its public rows; a restore never writes over a tenant."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists, tenant_context

from billing.models import Plan, Subscription
from crm.loyalty.services.ledger import points_adjust
from crm.loyalty.services.members import member_enrol
from crm.models import Guest
from crm.services.activities import activity_create
from crm.services.cases import case_create
from crm.services.companies import company_create
from crm.services.reservations import reservation_status_change
from metadata.models import FieldDefinition
from metadata.services.definitions import (
    custom_field_create,
    object_definition_create,
)
from metadata.services.records import record_create
from tenants.integrations.services import api_key_create
from tenants.jobs.models import Job
from tenants.jobs.services import job_run
from tenants.models import Domain, Tenant
from tenants.services.backup import tenant_export, tenant_import
from tenants.services.provisioning import tenant_create, tenant_delete
from tenants.users.services import user_password_set
from tests.conftest import PASSWORD
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.loyalty.conftest import programme_setup
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow

pytestmark = pytest.mark.django_db


def _populate() -> dict:
    """Rows of every kind, through the services: custom fields (one filterable, so the
    tenant has an index of its own), a record type with records, guests, companies,
    hotels, reservations, activities, cases, workflows and their runs, loyalty members
    and points, API keys, users, background jobs, audit rows."""
    custom_field_create(
        object_api_name="guest",
        api_name="pillow",
        label="Pillow",
        type="choice",
        choices=[{"value": "soft", "label": "Soft"}, {"value": "firm", "label": "Firm"}],
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="guest",
        api_name="member_no",
        label="Member number",
        type="text",
        filterable=True,
        actor=SYSTEM,
    )
    for job in Job.objects.filter(kind="metadata.index_build", status="queued"):
        job_run(job_id=str(job.pk))
    assert FieldDefinition.objects.get(api_name="member_no").index_status == "ready"
    object_definition_create(
        api_name="spa_booking",
        label="Spa booking",
        label_plural="Spa bookings",
        module="service",
        translations={"zh-hans": {"label": "水疗预订"}},
        actor=SYSTEM,
    )
    custom_field_create(
        object_api_name="spa_booking",
        api_name="minutes",
        label="Minutes",
        type="integer",
        actor=SYSTEM,
    )
    workflow = make_workflow("welcome", actions=[{"type": "create_task", "subject": "Hello"}])
    programme_setup()
    hotel = make_property(code="RT1", name="Round Trip Hotel")
    ana = make_guest(
        given_name="Ana",
        surname="Ferreira",
        custom={"pillow": "firm", "member_no": "M-1"},
    )
    bo = make_guest(given_name="Bo", surname="Li 李", custom={"member_no": "M-2"})
    company_create(name="Acme Travel", actor=SYSTEM)
    record_create(
        object_api_name="spa_booking",
        name="Hot stones",
        data={"minutes": 90},
        actor=SYSTEM,
    )
    stay = make_reservation(property=hotel, guest=ana, status="in_house", total="420.50")
    reservation_status_change(reservation=stay, status="checked_out", actor=SYSTEM)
    make_reservation(property=hotel, guest=bo, nights=3)
    activity_create(
        object_api_name="guest",
        record_id=ana.pk,
        kind="note",
        subject="Quiet room",
        body="Prefers a quiet room\nhigh floor\t(tab) \\ backslash",
        actor=SYSTEM,
    )
    case_create(subject="Noisy air conditioning", property=hotel, actor=SYSTEM)
    member = member_enrol(guest=bo, actor=SYSTEM)
    points_adjust(member=member, points=250, reason="Welcome gift", actor=SYSTEM)
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(email="admin@roundtrip.test")
    key = api_key_create(name="PMS", user=admin, scopes=["*"], actor=SYSTEM)
    return {"workflow": workflow.pk, "api_key": key.plaintext, "ana": ana.pk}


def _snapshot(schema: str) -> dict[str, list[tuple]]:
    """Every row of every table of ``schema``, in primary-key (or full-row) order, plus
    every sequence's position."""
    tables: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND relkind IN ('r', 'S') ORDER BY relname",
            [schema],
        )
        for name, kind in cursor.fetchall():
            if kind == "S":
                cursor.execute(f'SELECT last_value, is_called FROM "{schema}"."{name}"')
                tables[f"sequence {name}"] = cursor.fetchall()
                continue
            cursor.execute(f'SELECT * FROM "{schema}"."{name}"')
            width = len(cursor.description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            cursor.execute(f'SELECT * FROM "{schema}"."{name}" ORDER BY {order}')
            tables[name] = cursor.fetchall()
    return tables


def _indexes(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, replace(indexdef, %s, '') FROM pg_indexes WHERE schemaname = %s",
            [f"{schema}.", schema],
        )
        return set(cursor.fetchall())


def _public(tenant: Tenant) -> dict:
    subscription = Subscription.objects.select_related("plan").get(tenant=tenant)
    return {
        "tenant": {
            name: getattr(tenant, name)
            for name in (
                "name",
                "status",
                "kind",
                "created",
                "base_currency",
                "enabled_currencies",
                "default_language",
                "enabled_languages",
                "timezone",
                "enabled_modules",
            )
        },
        "subscription": {
            "plan": subscription.plan.code,
            "status": subscription.status,
            "stripe_customer_id": subscription.stripe_customer_id,
            "stripe_subscription_id": subscription.stripe_subscription_id,
            "trial_end": subscription.trial_end,
            "current_period_end": subscription.current_period_end,
            "cancelled_at": subscription.cancelled_at,
        },
    }


@pytest.fixture
def roundtrip(settings, django_capture_on_commit_callbacks):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    tenant = tenant_create(
        name="Round Trip Hotels",
        slug="roundtrip",
        domain="roundtrip.test",
        admin_email="admin@roundtrip.test",
        currency="EUR",
        currencies=["USD"],
        languages=["en", "zh-hans"],
        timezone="Europe/Lisbon",
        status="active",
        send_welcome_email=False,
    ).tenant
    plan = Plan.objects.create(code="rt-pro", name="Pro", modules=["loyalty", "service"])
    Subscription.objects.create(
        tenant=tenant,
        plan=plan,
        status="active",
        stripe_customer_id="cus_rt",
        stripe_subscription_id="sub_rt",
        current_period_end=timezone.now() + timedelta(days=20),
    )
    with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
        user_password_set(email="admin@roundtrip.test", password=PASSWORD)
        facts = _populate()
    return tenant, facts


def test_export_delete_restore_gives_back_every_row(roundtrip, tmp_path):
    # Given a hotel group with data of every kind, exported to a file
    tenant, facts = roundtrip
    before = _snapshot(tenant.schema_name)
    indexes_before = _indexes(tenant.schema_name)
    public_before = _public(tenant)
    assert before["metadata_workflowrun"], "the workflow ran"
    assert before["loyalty_ledgerentry"], "points were credited"
    assert any("member_no" in definition for _name, definition in indexes_before)
    path = tmp_path / "roundtrip.atrium.tar.gz"
    result = tenant_export(tenant=tenant, path=path)
    assert result.tables == len([t for t in before if not t.startswith("sequence ")]) - 1
    assert result.rows == sum(
        len(rows)
        for name, rows in before.items()
        if not name.startswith("sequence ") and name != "django_migrations"
    )

    # When it is deleted and restored under another slug
    tenant_delete(tenant=tenant)
    assert not schema_exists(tenant.schema_name)
    assert not Subscription.objects.filter(stripe_subscription_id="sub_rt").exists()
    restored = tenant_import(path=path, slug="roundtrip-two").tenant

    # Then every table of the new schema holds the same rows, sequences included
    assert restored.schema_name != tenant.schema_name
    after = _snapshot(restored.schema_name)
    assert sorted(after) == sorted(before)
    for table, rows in before.items():
        assert after[table] == rows, table
    # and the tenant's own index of its filterable field is back
    assert _indexes(restored.schema_name) == indexes_before
    # and the public rows: tenant settings, subscription (its Stripe link was free again),
    # one primary domain under the new slug
    restored.refresh_from_db()
    assert _public(restored) == public_before
    assert list(Domain.objects.filter(tenant=restored).values_list("domain", "is_primary")) == [
        ("roundtrip-two.localhost", True)
    ]

    # and the restored tenant works: staff sign in, the API key answers, new rows get
    # fresh ids
    client = Client(HTTP_HOST="roundtrip-two.localhost")
    signed_in = client.post("/login/", {"username": "admin@roundtrip.test", "password": PASSWORD})
    assert signed_in.status_code == 302
    api = Client(
        HTTP_HOST="roundtrip-two.localhost", HTTP_AUTHORIZATION=f"Bearer {facts['api_key']}"
    )
    answer = api.get(f"/api/v1/guests/{facts['ana']}/")
    assert answer.status_code == 200
    assert answer.json()["custom"]["pillow"] == "firm"
    with schema_context(restored.schema_name):
        newest = make_guest(given_name="New")
        assert newest.pk > max(Guest.objects.exclude(pk=newest.pk).values_list("pk", flat=True))
        assert Guest.objects.filter(custom__member_no="M-2").count() == 1


def test_restoring_over_an_existing_slug_is_refused(roundtrip, tmp_path):
    tenant, _facts = roundtrip
    path = tmp_path / "roundtrip.atrium.tar.gz"
    tenant_export(tenant=tenant, path=path)
    tenants_before = Tenant.objects.count()

    with pytest.raises(ValidationError) as exc:
        tenant_import(path=path)  # its own slug, still there

    assert "exists: a restore never writes over it" in exc.value.message_dict["slug"][0]
    with pytest.raises(CommandError, match="roundtrip .*exists"):
        call_command("tenant_import", str(path), stdout=StringIO())
    # a new slug with a domain that is taken is refused too, and nothing is left behind
    with pytest.raises(CommandError, match="Domain roundtrip.test belongs to another tenant"):
        call_command("tenant_import", str(path), "--slug", "other", "--domain", "roundtrip.test")
    assert Tenant.objects.count() == tenants_before
    assert not schema_exists("other")


def test_commands_export_and_restore_a_copy_beside_the_original(roundtrip, tmp_path):
    tenant, _facts = roundtrip
    path = tmp_path / "copy.atrium.tar.gz"
    out = StringIO()

    call_command("tenant_export", "roundtrip", str(path), stdout=out)
    call_command("tenant_import", str(path), "--slug", "roundtrip-copy", stdout=out)

    copy = Tenant.objects.get(slug="roundtrip-copy")
    assert "Restored Round Trip Hotels as roundtrip-copy" in out.getvalue()
    # the original still holds its Stripe subscription, so the copy is not linked to it
    assert "sub_rt belongs to another tenant" in out.getvalue()
    assert Subscription.objects.get(tenant=copy).stripe_subscription_id == ""
    with schema_context(copy.schema_name):
        assert Guest.objects.filter(surname="Ferreira").exists()
    with schema_context(tenant.schema_name):
        assert Guest.objects.filter(surname="Ferreira").exists()


def test_a_file_that_is_no_export_is_refused(tmp_path):
    import tarfile

    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz"):
        pass

    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("tenant_import", str(path))


def test_tenant_delete_can_export_first(roundtrip, tmp_path):
    tenant, _facts = roundtrip
    path = tmp_path / "before-delete.atrium.tar.gz"

    call_command(
        "tenant_delete",
        "roundtrip",
        "--confirm",
        "roundtrip",
        "--export",
        str(path),
        stdout=StringIO(),
    )

    assert path.exists() and not schema_exists(tenant.schema_name)
    assert tenant_import(path=path).tenant.slug == "roundtrip"
