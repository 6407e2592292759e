from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.selectors import tenant_get_by_slug
from tenants.services.backup import tenant_export
from tenants.services.provisioning import tenant_delete


class Command(BaseCommand):
    help = "Delete a hotel group and DROP its schema with all its data (irreversible)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--confirm",
            metavar="SLUG",
            help="Repeat the slug to confirm that the schema and all its data may be dropped",
        )
        parser.add_argument(
            "--export",
            metavar="FILE",
            help="First write the tenant's export (as tenant_export) to FILE; nothing is "
            "dropped if that fails",
        )

    def handle(self, *args, slug, confirm, export=None, **options):
        tenant = tenant_get_by_slug(slug=slug)
        if tenant is None:
            raise CommandError(f"No hotel group with slug {slug!r}.")
        if confirm != slug:
            raise CommandError(
                f"Refusing to drop schema {tenant.schema_name!r} of {tenant.name}: "
                f"repeat the slug with --confirm {slug} to proceed."
            )
        if export:
            result = tenant_export(tenant=tenant, path=export)
            self.stdout.write(f"Exported {result.rows} rows of {result.tables} tables to {export}.")
        try:
            tenant_delete(tenant=tenant)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {tenant.name}; schema {tenant.schema_name} dropped.")
        )
