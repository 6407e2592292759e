import os

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from crm.services.demo import demo_data_generate
from tenants.selectors import tenant_get_by_slug
from tenants.services.provisioning import tenant_create
from tenants.users.services import user_password_set


class Command(BaseCommand):
    help = "Provision the demo hotel group (demo.localhost) with generated sample data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain", default=os.environ.get("ATRIUM_DEMO_DOMAIN", "demo.localhost")
        )
        parser.add_argument("--guests", type=int, default=300)

    def handle(self, *args, **options):
        email = "admin@demo.localhost"
        # A known password for the local demo only; real tenants get a one-time password.
        password = os.environ.get("ATRIUM_DEMO_PASSWORD", "harbour-demo-2026")
        tenant = tenant_get_by_slug(slug="demo")
        if tenant is None:
            result = tenant_create(
                name="Harbour Hotels (demo)",
                slug="demo",
                domain=options["domain"],
                admin_email=email,
                currency="EUR",
                currencies=["HKD", "USD"],
                languages=["en", "zh-hans", "zh-hant"],
                timezone="Europe/Lisbon",
                status="active",
                send_welcome_email=False,
            )
            tenant = result.tenant
        with schema_context(tenant.schema_name):
            user_password_set(email=email, password=password)
            stats = demo_data_generate(guests=options["guests"])
        port = os.environ.get("PORT", "8000")
        verb = "Created" if stats["created"] else "Reusing"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} demo hotel group: {stats['guests']} guests, "
                f"{stats['reservations']} reservations"
            )
        )
        self.stdout.write(f"  open   http://{options['domain']}:{port}/")
        self.stdout.write(f"  login  {email} / {password}")
