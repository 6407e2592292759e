from django.core.management.base import BaseCommand, CommandError

from tenants.citus import CitusError, schema_move
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = (
        "Move a hotel group's schema to another Citus worker node (citus_schema_move: "
        "copied online, writes paused only for the switch-over). Needs a Citus coordinator."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("node", help="Host name of the target worker, as Citus knows it")
        parser.add_argument("port", type=int, help="Port of the target worker")

    def handle(self, *args, slug, node, port, **options):
        tenant = tenant_get_by_slug(slug=slug)
        if tenant is None:
            raise CommandError(f"No hotel group with slug {slug!r}.")
        if not 0 < port < 65536:
            raise CommandError(f"{port} is not a port number.")
        try:
            schema_move(schema_name=tenant.schema_name, node=node, port=port)
        except CitusError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Moved {tenant.name} (schema {tenant.schema_name}) to {node}:{port}."
            )
        )
