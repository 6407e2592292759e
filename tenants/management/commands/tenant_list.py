import json

from django.core.management.base import BaseCommand

from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "List hotel groups."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output")
        parser.add_argument(
            "--all", action="store_true", help="Include the platform and template rows"
        )

    def handle(self, *args, **options):
        rows = [
            {
                "slug": t.slug,
                "name": t.name,
                "schema": t.schema_name,
                "status": t.status,
                "kind": t.kind,
                "domains": [d.domain for d in t.domains.all()],
                "base_currency": t.base_currency,
                "languages": t.enabled_languages,
                "timezone": t.timezone,
                "created": t.created.isoformat(),
            }
            for t in tenant_list(include_internal=options["all"])
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No hotel groups yet.")
            return
        header = f"{'SLUG':<20} {'STATUS':<10} {'CUR':<4} {'DOMAINS':<30} NAME"
        self.stdout.write(header)
        for row in rows:
            self.stdout.write(
                f"{row['slug']:<20} {row['status']:<10} {row['base_currency']:<4} "
                f"{','.join(row['domains']):<30} {row['name']}"
            )
