import json

from django.core.management.base import BaseCommand

from tenants.citus import CitusAbsent, schema_placements
from tenants.selectors import tenant_list

NO_PLACEMENT = "—"


class Command(BaseCommand):
    help = "List hotel groups."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output")
        parser.add_argument(
            "--all", action="store_true", help="Include the platform and template rows"
        )
        parser.add_argument(
            "--placement",
            action="store_true",
            help="Show the Citus worker node each schema lives on",
        )

    def handle(self, *args, **options):
        placements = None
        if options["placement"]:
            try:
                placements = schema_placements()
            except CitusAbsent as exc:
                self.stderr.write(str(exc))
                placements = {}
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
        if placements is not None:
            for row in rows:
                placed = placements.get(row["schema"])
                row["placement"] = str(placed) if placed else None
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No hotel groups yet.")
            return
        where_header = f" {'PLACEMENT':<24}" if placements is not None else ""
        header = f"{'SLUG':<20} {'STATUS':<10} {'CUR':<4}{where_header} {'DOMAINS':<30} NAME"
        self.stdout.write(header)
        for row in rows:
            where = f" {row['placement'] or NO_PLACEMENT:<24}" if placements is not None else ""
            self.stdout.write(
                f"{row['slug']:<20} {row['status']:<10} {row['base_currency']:<4}{where} "
                f"{','.join(row['domains']):<30} {row['name']}"
            )
