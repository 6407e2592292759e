"""Provisioning of hotel groups.

A new tenant's schema is cloned from the template schema (``tenant_template``, kept
migrated by ``migrate_schemas`` like any tenant) by django-tenants' ``clone_schema``
SQL function, which copies tables, indexes, sequences and rows -- including the
``django_migrations`` rows, so migrations are recorded as applied without running.

When a spare schema cloned ahead of time is ready (``tenants.services.spare_schemas``),
sign-up renames it instead of cloning.

Everything happens in one transaction: the tenant row, its domain, the cloned (or
renamed spare) schema (PostgreSQL DDL is transactional) and the admin account. Any
failure rolls all of it back, so bad input never leaves a half-made schema or an orphan
row.

On a Citus coordinator with schema-based sharding on, the clone is made as a local
schema and then distributed in the same transaction (see tenants/citus.py); on plain
PostgreSQL the detection says no and the clone is all there is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists

from tenants import citus, validators
from tenants.models import Domain, Tenant
from tenants.modules import default_module_keys
from tenants.services.spare_schemas import spare_schema_take


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    domain: str
    admin_email: str
    one_time_password: str


def _collect(errors: dict[str, list[str]], field: str, fn, value):
    try:
        return fn(value)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return None


def _one_time_password() -> str:
    # 16 characters from an unambiguous alphabet, grouped for reading aloud.
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def tenant_create_check(
    *,
    name: str,
    slug: str,
    domain: str,
    admin_email: str,
    currency: str,
    languages: list[str] | None = None,
    currencies: list[str] | None = None,
    timezone: str = "UTC",
    modules: list[str] | None = None,
    status: str = Tenant.Status.TRIAL,
) -> dict:
    """Check what ``tenant_create`` would be given, creating nothing: the cleaned values
    (its keyword arguments), or ``ValidationError`` with messages keyed by argument.
    Sign-up checks a request with it before e-mailing the confirmation link."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Name is required."]
    elif len(name) > 200:
        errors["name"] = ["Name is longer than 200 characters."]
    slug = _collect(errors, "slug", validators.validate_slug, slug)
    domain = _collect(errors, "domain", validators.validate_hostname, domain)
    admin_email = (admin_email or "").strip().lower()
    _collect(errors, "admin_email", validate_email, admin_email)
    currency = _collect(errors, "currency", validators.validate_currency, currency)
    language_codes = [
        _collect(errors, "languages", validators.validate_language, code)
        for code in (languages or ["en"])
    ]
    if not languages:
        language_codes = ["en"]
    currency_codes = [
        _collect(errors, "currencies", validators.validate_currency, code)
        for code in (currencies or [])
    ]
    timezone = _collect(errors, "timezone", validators.validate_timezone, timezone)
    module_keys = [
        _collect(errors, "modules", validators.validate_module, key)
        for key in (modules if modules is not None else default_module_keys())
    ]
    if status not in Tenant.Status.values:
        errors["status"] = [f"{status} is not a tenant status ({', '.join(Tenant.Status.values)})."]

    if slug and "slug" not in errors:
        schema_name = validators.slug_to_schema(slug)
        if Tenant.objects.filter(slug=slug).exists() or schema_exists(
            schema_name, case_sensitive=False
        ):
            errors.setdefault("slug", []).append(f"{slug} is already taken.")
    if domain and "domain" not in errors and Domain.objects.filter(domain=domain).exists():
        errors.setdefault("domain", []).append(f"{domain} is already taken.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "slug": slug,
        "domain": domain,
        "admin_email": admin_email,
        "currency": currency,
        "languages": language_codes,
        "currencies": currency_codes,
        "timezone": timezone,
        "modules": [key for key in module_keys if key],
        "status": status,
    }


def tenant_create(
    *,
    name: str,
    slug: str,
    domain: str,
    admin_email: str,
    currency: str,
    languages: list[str] | None = None,
    currencies: list[str] | None = None,
    timezone: str = "UTC",
    modules: list[str] | None = None,
    status: str = Tenant.Status.TRIAL,
    send_welcome_email: bool = True,
    admin_password: str | None = None,
) -> ProvisionedTenant:
    """Create a hotel group with its schema, domain and first administrator.

    Without ``admin_password`` the admin gets a one-time password (returned, and
    e-mailed unless ``send_welcome_email`` is off) to change at first sign-in; with it
    (already validated by the caller: sign-up lets the admin choose it) nothing secret
    is returned or sent.

    Raises ``ValidationError`` with messages keyed by the offending argument.
    """
    if admin_password is not None and not admin_password:
        raise ValidationError({"admin_password": ["Choose a password."]})
    values = tenant_create_check(
        name=name,
        slug=slug,
        domain=domain,
        admin_email=admin_email,
        currency=currency,
        languages=languages,
        currencies=currencies,
        timezone=timezone,
        modules=modules,
        status=status,
    )
    name, slug, domain = values["name"], values["slug"], values["domain"]
    admin_email, currency = values["admin_email"], values["currency"]
    language_codes, currency_codes = values["languages"], values["currencies"]

    enabled_currencies = list(dict.fromkeys([currency, *currency_codes]))
    enabled_languages = list(dict.fromkeys(language_codes))
    password = admin_password or _one_time_password()
    # Hashed before the transaction opens: a chosen password's PBKDF2 takes half a
    # second, and a drawn one-time password needs no slow hash at all.
    from django.contrib.auth.hashers import make_password

    from tenants.users.hashers import ALGORITHM

    password_hash = make_password(password, hasher="default" if admin_password else ALGORITHM)
    template = tenant_template_ensure()
    try:
        tenant = _provision(
            template_schema=template.schema_name,
            name=name,
            slug=slug,
            domain=domain,
            admin_email=admin_email,
            password_hash=password_hash,
            must_change_password=admin_password is None,
            status=values["status"],
            base_currency=currency,
            enabled_currencies=enabled_currencies,
            default_language=enabled_languages[0],
            enabled_languages=enabled_languages,
            timezone=values["timezone"],
            enabled_modules=values["modules"],
        )
    except IntegrityError as exc:
        # Lost a race with a concurrent sign-up for the same slug or domain.
        raise ValidationError(
            {"slug": ["Slug or domain was taken while provisioning; try again."]}
        ) from exc

    if not connection.in_atomic_block:
        # Each clone leaves thousands of new catalogue entries in this server backend's
        # caches, and the invalidation work after the next clone grows with them (seen:
        # 0.4 s per tenant at first, 2.4 s after 200 clones on one connection). A fresh
        # backend per provisioning keeps the cost flat; Django reconnects lazily.
        connection.close()

    if settings.TENANT_SPARE_SCHEMAS:
        transaction.on_commit(_spare_schemas_refill)

    if send_welcome_email and admin_password is None:
        transaction.on_commit(
            lambda: _send_welcome(
                tenant_name=name, domain=domain, email=admin_email, password=password
            )
        )
    return ProvisionedTenant(
        tenant=tenant,
        domain=domain,
        admin_email=admin_email,
        one_time_password="" if admin_password else password,
    )


def _spare_schemas_refill() -> None:
    from tenants.tasks import spare_schemas_fill

    spare_schemas_fill.delay()


@transaction.atomic
def _provision(
    *,
    template_schema: str,
    domain: str,
    admin_email: str,
    password_hash: str,
    must_change_password: bool,
    **fields,
) -> Tenant:
    schema_name = validators.slug_to_schema(fields["slug"])
    tenant = Tenant(schema_name=schema_name, kind=Tenant.Kind.HOTEL_GROUP, **fields)
    tenant.save()
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    if not spare_schema_take(schema_name=schema_name, template_schema=template_schema):
        schema_clone(template_schema=template_schema, schema_name=schema_name)
    with schema_context(schema_name):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role, RoleAssignment

        User = get_user_model()
        admin = User(
            email=User.objects.normalize_email(admin_email).lower(),
            password=password_hash,
            must_change_password=must_change_password,
            full_name="",
            is_staff=True,
        )
        admin.save()
        # The one administrator rule: the tenant_admin role (seeded in the template).
        RoleAssignment.objects.create(user=admin, role=Role.objects.get(key="tenant_admin"))
    return tenant


def schema_clone(*, template_schema: str, schema_name: str) -> None:
    """Copy the template into a new schema inside the caller's transaction.

    clone_schema creates the tables from inside a PL/pgSQL function, which Citus does
    not distribute: with sharding on, the schema would be listed as distributed while
    its tables stay plain coordinator tables. So sharding is suspended for the clone and
    the finished schema is distributed explicitly, with every table checked."""
    distributed = citus.citus_sharding_on()
    if distributed:
        citus.sharding_suspend()
    CloneSchema().clone_schema(template_schema, schema_name, set_connection=False)
    constraint_names_align(template_schema=template_schema, schema_name=schema_name)
    if distributed:
        citus.schema_distribute(schema_name=schema_name)
        citus.sharding_resume()


def constraint_names_align(*, template_schema: str, schema_name: str) -> None:
    """Give the clone's unique constraints the template's names.

    clone_schema recreates unique constraints under PostgreSQL's generated names
    (``crm_roomtype_property_id_code_key`` instead of the migration's
    ``roomtype_code_unique``); a later migration that drops or alters the constraint by
    name would then fail on every provisioned tenant. Matched on table and definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ct.relname, cc.conname, tc.conname
            FROM pg_constraint tc
            JOIN pg_class tt ON tt.oid = tc.conrelid
            JOIN pg_namespace tn ON tn.oid = tt.relnamespace AND tn.nspname = %s
            JOIN pg_namespace cn ON cn.nspname = %s
            JOIN pg_class ct ON ct.relnamespace = cn.oid AND ct.relname = tt.relname
            JOIN pg_constraint cc ON cc.conrelid = ct.oid AND cc.contype = tc.contype
                AND pg_get_constraintdef(cc.oid) = pg_get_constraintdef(tc.oid)
            WHERE tc.contype = 'u' AND cc.conname <> tc.conname
            """,
            [template_schema, schema_name],
        )
        quote = connection.ops.quote_name
        for table, clone_name, template_name in cursor.fetchall():
            cursor.execute(
                f"ALTER TABLE {quote(schema_name)}.{quote(table)} "
                f"RENAME CONSTRAINT {quote(clone_name)} TO {quote(template_name)}"
            )


def _send_welcome(*, tenant_name: str, domain: str, email: str, password: str) -> None:
    send_mail(
        subject=f"Your Atrium workspace for {tenant_name} is ready",
        message=(
            f"Sign in at http://{domain}/ with {email} and this one-time password:\n\n"
            f"    {password}\n\nYou will be asked to choose a new password."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
        fail_silently=True,
    )


def tenant_template_ensure() -> Tenant:
    """Return the template tenant, creating and migrating its schema the first time."""
    template = Tenant.objects.filter(kind=Tenant.Kind.TEMPLATE).first()
    if template is not None and schema_exists(template.schema_name):
        return template
    if template is None:
        template = Tenant.objects.create(
            schema_name=settings.TENANT_BASE_SCHEMA,
            slug="tenant-template",
            name="Template schema",
            kind=Tenant.Kind.TEMPLATE,
            status=Tenant.Status.ACTIVE,
        )
    # No template to clone from yet: this one time, run the migrations.
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{template.schema_name}"')
    from django.core.management import call_command

    call_command(
        "migrate_schemas", schema_name=template.schema_name, interactive=False, verbosity=0
    )
    return template


def platform_tenant_ensure(*, domain: str) -> Tenant:
    """The public schema's tenant row and its domain, which serve the public site."""
    platform, _ = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={
            "slug": "public",
            "name": "Atrium",
            "kind": Tenant.Kind.PLATFORM,
            "status": Tenant.Status.ACTIVE,
        },
    )
    Domain.objects.get_or_create(domain=domain, defaults={"tenant": platform, "is_primary": True})
    return platform


@transaction.atomic
def tenant_delete(*, tenant: Tenant) -> None:
    """Drop a hotel group's schema and its rows. Irreversible."""
    if tenant.kind != Tenant.Kind.HOTEL_GROUP:
        raise ValidationError(
            {"slug": [f"{tenant.slug} is not a hotel group and cannot be deleted."]}
        )
    schema = tenant.schema_name
    Domain.objects.filter(tenant=tenant).delete()
    Tenant.objects.filter(pk=tenant.pk).delete()
    with connection.cursor() as cursor:
        # Deferred foreign-key checks still pending in this transaction (a tenant made
        # and deleted in one transaction) would make PostgreSQL refuse the DROP.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
