from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.services.provisioning import platform_tenant_ensure, tenant_template_ensure


class Command(BaseCommand):
    help = "Create the public site's tenant row and the template schema (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--public-domain", default=settings.ATRIUM_PUBLIC_DOMAIN)

    def handle(self, *args, **options):
        platform_tenant_ensure(domain=options["public_domain"])
        template = tenant_template_ensure()
        self.stdout.write(
            f"Platform ready: public site on {options['public_domain']}, "
            f"template schema {template.schema_name}."
        )
