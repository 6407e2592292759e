from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services.provisioning import tenant_create


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = "Provision a hotel group: schema cloned from the template, domain and first admin."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help='Hotel group name, e.g. "Harbour Hotels"')
        parser.add_argument("--slug", required=True, help="Short identifier; also the schema name")
        parser.add_argument("--domain", required=True, help="Host name staff sign in on")
        parser.add_argument("--admin-email", required=True, help="First administrator's e-mail")
        parser.add_argument("--currency", required=True, help="Base currency (ISO 4217)")
        parser.add_argument("--currencies", help="More enabled currencies, comma separated")
        parser.add_argument(
            "--languages", default="en", help="Enabled languages, comma separated; first is default"
        )
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Lisbon")
        parser.add_argument(
            "--modules", help="Enabled modules, comma separated (default: the usual set)"
        )
        parser.add_argument(
            "--no-email", action="store_true", help="Do not e-mail the one-time password"
        )

    def handle(self, *args, **options):
        try:
            result = tenant_create(
                name=options["name"],
                slug=options["slug"],
                domain=options["domain"],
                admin_email=options["admin_email"],
                currency=options["currency"],
                currencies=_csv(options["currencies"]),
                languages=_csv(options["languages"]),
                timezone=options["timezone"],
                modules=_csv(options["modules"]),
                send_welcome_email=not options["no_email"],
            )
        except ValidationError as exc:
            lines = [
                f"  {field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("Tenant not created:\n" + "\n".join(lines)) from exc
        tenant = result.tenant
        self.stdout.write(self.style.SUCCESS(f"Created {tenant.name} ({tenant.slug})"))
        self.stdout.write(f"  schema:   {tenant.schema_name}")
        self.stdout.write(f"  domain:   {result.domain}")
        self.stdout.write(f"  admin:    {result.admin_email}")
        self.stdout.write(f"  one-time password: {result.one_time_password}")
