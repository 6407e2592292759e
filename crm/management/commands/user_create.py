"""``manage.py user_create --tenant harbour --email desk@harbour.example
[--roles front_office,reservations] [--properties HBR1,HBR2] [--name "Ana Lima"]``

Creates a staff account through the same service as the settings screen and the users
API (audited, the plan's staff limit applies) and prints its one-time password once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants.access.principal import Principal
from tenants.errors import ApplicationError
from tenants.selectors import tenant_get_by_slug


def _csv(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Command(BaseCommand):
    help = "Create a staff account of a hotel group; prints its one-time password once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The hotel group's slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="Full name")
        parser.add_argument("--roles", default="", help="Role keys, comma separated")
        parser.add_argument(
            "--properties",
            default=None,
            help="Hotel codes the account is limited to, comma separated (default: all)",
        )

    def handle(self, *args, **options):
        from crm.models import Property
        from tenants.users.services import user_create

        tenant = tenant_get_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"tenant: no hotel group with the slug {options['tenant']!r}.")
        with tenant_context(tenant):
            property_ids = None
            if options["properties"] is not None:
                codes = [c.upper() for c in _csv(options["properties"])]
                found = dict(Property.objects.filter(code__in=codes).values_list("code", "pk"))
                missing = [c for c in codes if c not in found]
                if missing:
                    raise CommandError(f"properties: no hotel with the code {missing[0]}.")
                property_ids = [found[c] for c in codes]
            try:
                user, password = user_create(
                    actor=Principal.system("manage.py user_create"),
                    email=options["email"],
                    full_name=options["name"],
                    roles=_csv(options["roles"]),
                    property_ids=property_ids,
                )
            except ValidationError as exc:
                lines = [
                    f"  {field}: {message}"
                    for field, messages in exc.message_dict.items()
                    for message in messages
                ]
                raise CommandError("User not created:\n" + "\n".join(lines)) from exc
            except ApplicationError as exc:
                raise CommandError(f"User not created: {exc.field or ''}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} in {tenant.slug}"))
        self.stdout.write(f"  roles: {', '.join(_csv(options['roles'])) or '(none)'}")
        self.stdout.write(f"  one-time password: {password}")
