"""Provisioning: valid input makes a complete tenant; every kind of bad input fails with a
message naming the problem and leaves no schema and no row behind."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.models import Domain, Tenant
from tenants.services import provisioning

GOOD = {
    "--name": "Harbour Hotels",
    "--slug": "harbour",
    "--domain": "harbour.test",
    "--admin-email": "ops@harbour.example",
    "--currency": "EUR",
    "--languages": "en,zh-hans",
}


def run_create(**overrides) -> str:
    args = {**GOOD, **overrides}
    argv = [item for pair in args.items() for item in pair]
    from io import StringIO

    out = StringIO()
    call_command("tenant_create", *argv, stdout=out)
    return out.getvalue()


def assert_nothing_left(slug: str, domain: str | None) -> None:
    assert not Tenant.objects.filter(slug=slug).exists()
    if domain:
        assert not Domain.objects.filter(domain=domain).exists()
    assert not schema_exists(slug.replace("-", "_"))


@pytest.mark.django_db
def test_tenant_create_clones_template_and_records_migrations():
    out = run_create()

    tenant = Tenant.objects.get(slug="harbour")
    assert "one-time password:" in out
    assert tenant.schema_name == "harbour"
    assert tenant.status == Tenant.Status.TRIAL
    assert tenant.base_currency == "EUR"
    assert tenant.enabled_currencies == ["EUR"]
    assert tenant.enabled_languages == ["en", "zh-hans"]
    assert tenant.default_language == "en"
    assert tenant.get_primary_domain().domain == "harbour.test"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM harbour.django_migrations")
        cloned = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenant_template.django_migrations")
        template = cursor.fetchone()[0]
    assert cloned == template > 0
    with schema_context("harbour"):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get()
        assert admin.email == "ops@harbour.example"
        assert admin.must_change_password and not admin.is_superuser
        from tenants.access.principal import Principal

        # The one administrator rule: the first admin holds the tenant_admin role.
        assert list(admin.role_assignments.values_list("role__key", flat=True)) == ["tenant_admin"]
        assert Principal.of(admin).is_admin
        password = out.split("one-time password:")[1].strip()
        assert admin.check_password(password)


def _schema_shape(schema: str) -> dict[str, set]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s",
            [schema],
        )
        # Foreign keys name their schema in the definition; compare without it.
        constraints = {
            (table, name, kind, definition.replace(f"{schema}.", ""))
            for table, name, kind, definition in cursor.fetchall()
        }
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s", [schema]
        )
        indexes = set(cursor.fetchall())
    return {"constraints": constraints, "indexes": indexes}


@pytest.mark.django_db
def test_clone_keeps_the_template_names_of_constraints_and_indexes():
    # Later migrations drop and alter constraints by name; a clone that renamed them
    # would break every provisioned tenant's next migration.
    run_create()
    clone, template = _schema_shape("harbour"), _schema_shape("tenant_template")
    assert clone["constraints"] == template["constraints"]
    assert clone["indexes"] == template["indexes"]
    names = {name for _, name, kind, _ in template["constraints"] if kind == "u"}
    assert "reservation_confirmation_unique" in names


@pytest.mark.django_db
def test_tenant_create_emails_one_time_password(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = run_create()

    password = out.split("one-time password:")[1].strip()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@harbour.example"]
    assert password in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"--slug": "Bad Slug!"}, "slug", "not a valid slug"),
        ({"--slug": "public"}, "slug", "reserved"),
        ({"--slug": "alpha"}, "slug", "already taken"),
        ({"--domain": "alpha.test"}, "domain", "already taken"),
        ({"--domain": "not a host"}, "domain", "not a valid host name"),
        ({"--currency": "EUX"}, "currency", "EUX is not an ISO 4217 currency"),
        ({"--currency": "DEM"}, "currency", "DEM is not an ISO 4217 currency"),
        ({"--languages": "en,klingon"}, "languages", "klingon is not a supported language"),
        ({"--admin-email": "nobody"}, "admin_email", "valid email"),
        ({"--timezone": "Mars/Olympus"}, "timezone", "Mars/Olympus is not an IANA time zone"),
        ({"--modules": "guests,teleport"}, "modules", "teleport is not a known module"),
        ({"--name": " "}, "name", "Name is required"),
    ],
)
def test_tenant_create_refuses_bad_input(overrides, field, fragment):
    slug = overrides.get("--slug", GOOD["--slug"])
    domain = overrides.get("--domain", GOOD["--domain"])
    tenants_before = Tenant.objects.count()
    domains_before = Domain.objects.count()

    with pytest.raises(CommandError) as excinfo:
        run_create(**overrides)

    message = str(excinfo.value)
    assert f"{field}:" in message
    assert fragment in message
    assert Tenant.objects.count() == tenants_before
    assert Domain.objects.count() == domains_before
    if slug not in ("alpha", "public"):
        assert_nothing_left(slug.lower(), None if domain == "alpha.test" else domain)


@pytest.mark.django_db
def test_failure_after_clone_rolls_back_schema_and_rows(monkeypatch):
    """A failure at the very last step (admin account) still leaves nothing behind."""

    def explode(**_kwargs):
        raise RuntimeError("mail server exploded")

    from tenants.access.models import RoleAssignment

    monkeypatch.setattr(RoleAssignment.objects, "create", explode)

    with pytest.raises(RuntimeError):
        provisioning.tenant_create(
            name="Half Made",
            slug="half-made",
            domain="half.test",
            admin_email="a@half.test",
            currency="EUR",
        )

    assert_nothing_left("half-made", "half.test")


@pytest.mark.django_db
def test_hyphenated_slug_gets_underscored_schema():
    result = provisioning.tenant_create(
        name="Lotus Group",
        slug="lotus-group",
        domain="lotus.test",
        admin_email="a@lotus.test",
        currency="hkd",
        currencies=["usd", "CNY"],
        languages=["zh-hant", "en"],
        timezone="Asia/Hong_Kong",
        send_welcome_email=False,
    )

    tenant = result.tenant
    assert tenant.schema_name == "lotus_group"
    assert schema_exists("lotus_group")
    assert tenant.base_currency == "HKD"
    assert tenant.enabled_currencies == ["HKD", "USD", "CNY"]
    assert tenant.default_language == "zh-hant"
    assert tenant.timezone == "Asia/Hong_Kong"


@pytest.mark.django_db
def test_tenant_create_check_creates_nothing():
    values = provisioning.tenant_create_check(
        name=" Harbour Hotels ",
        slug="harbour",
        domain="harbour.test",
        admin_email="Ops@Harbour.example",
        currency="EUR",
        languages=["en"],
    )
    assert (values["name"], values["admin_email"]) == ("Harbour Hotels", "ops@harbour.example")
    assert_nothing_left("harbour", "harbour.test")


@pytest.mark.django_db
def test_a_chosen_admin_password_is_neither_returned_nor_sent(django_capture_on_commit_callbacks):
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    with django_capture_on_commit_callbacks(execute=True):
        result = provisioning.tenant_create(
            name="Harbour Hotels",
            slug="harbour",
            domain="harbour.test",
            admin_email="ops@harbour.example",
            currency="EUR",
            admin_password="harbour-lights-at-dawn",
        )
    assert result.one_time_password == ""
    assert mail.outbox == []
    with schema_context(result.tenant.schema_name):
        request = RequestFactory().post("/login/")
        user = authenticate(
            request, username="ops@harbour.example", password="harbour-lights-at-dawn"
        )
        assert user is not None and not user.must_change_password

    with pytest.raises(provisioning.ValidationError) as info:
        provisioning.tenant_create(
            name="Other",
            slug="other",
            domain="other.test",
            admin_email="ops@other.example",
            currency="EUR",
            admin_password="",
        )
    assert "admin_password" in info.value.message_dict
    assert_nothing_left("other", "other.test")


@pytest.mark.django_db
def test_a_drawn_one_time_password_is_stored_with_the_fast_hasher_and_works():
    """The one-time password (drawn by Atrium, ~93 random bits) needs no slow hash; it
    still verifies, and a chosen password keeps the slow default hasher."""
    result = provisioning.tenant_create(
        name="Quick Hash", slug="quick-hash", domain="quick.test",
        admin_email="ops@quick.test", currency="EUR", send_welcome_email=False,
    )  # fmt: skip
    with schema_context(result.tenant.schema_name):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get()
        assert admin.password.startswith("onetime_sha256$")
        assert admin.check_password(result.one_time_password)
        assert not admin.check_password("wrong-" + result.one_time_password)
    provisioning.tenant_delete(tenant=result.tenant)
