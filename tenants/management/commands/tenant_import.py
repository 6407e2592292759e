from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services.backup import tenant_import


class Command(BaseCommand):
    help = (
        "Restore a hotel group from a tenant_export file, under its own slug (the original "
        "is gone) or under --slug (a copy). Never writes over an existing tenant."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--slug", help="Restore under this slug instead of the exported one")
        parser.add_argument(
            "--domain",
            help="Primary domain of the restored tenant (default: its own domains under its "
            "own slug, <slug>.<ATRIUM_TENANT_DOMAIN_SUFFIX> under a new one)",
        )

    def handle(self, *args, file, slug, domain, **options):
        verbose = options["verbosity"] > 1
        try:
            result = tenant_import(
                path=file,
                slug=slug,
                domain=domain,
                progress=self.stdout.write if verbose else None,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        except ValidationError as exc:
            lines = [
                f"  {field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("Nothing restored:\n" + "\n".join(lines)) from exc
        tenant = result.tenant
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {tenant.name} as {tenant.slug} (schema {tenant.schema_name}): "
                f"{result.tables} tables, {result.rows} rows; domains {', '.join(result.domains)}."
            )
        )
        for note in result.notes:
            self.stdout.write(f"  note: {note}")
