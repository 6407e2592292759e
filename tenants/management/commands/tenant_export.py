from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.selectors import tenant_get_by_slug
from tenants.services.backup import tenant_export


class Command(BaseCommand):
    help = (
        "Write one hotel group to a file: every table of its schema (COPY text format) and "
        "its public rows (tenant, domains, subscription). Restore it with tenant_import."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", help="Where to write the export (a .tar.gz archive)")

    def handle(self, *args, slug, file, **options):
        tenant = tenant_get_by_slug(slug=slug)
        if tenant is None:
            raise CommandError(f"No hotel group with slug {slug!r}.")
        try:
            result = tenant_export(tenant=tenant, path=file)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {tenant.name} ({slug}): {result.tables} tables, {result.rows} rows "
                f"to {result.path} in {result.seconds:.1f} s."
            )
        )
