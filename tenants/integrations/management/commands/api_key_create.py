from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.access.principal import Principal
from tenants.access.selectors import administrators
from tenants.integrations.services import api_key_create
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = "Create an API key for a hotel group and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. PMS")
        parser.add_argument("--scopes", default="*", help="Comma separated, e.g. guests:read")
        parser.add_argument("--expires", help="Expiry date, YYYY-MM-DD (end of that day)")
        parser.add_argument("--user", help="E-mail of the staff user the key acts as")

    def handle(self, *args, **options):
        tenant = tenant_get_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"tenant: there is no hotel group {options['tenant']!r}.")
        expires = None
        if options["expires"]:
            try:
                day = datetime.strptime(options["expires"], "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("expires: use YYYY-MM-DD.") from None
            expires = timezone.make_aware(datetime.combine(day, time.max))
        with tenant_context(tenant):
            from django.contrib.auth import get_user_model

            users = get_user_model().objects.filter(is_active=True)
            user = (
                users.filter(email__iexact=options["user"]).first()
                if options["user"]
                else administrators().first()
            )
            if user is None:
                raise CommandError(f"user: no active user {options['user'] or '(admin)'}.")
            try:
                created = api_key_create(
                    name=options["name"],
                    user=user,
                    scopes=options["scopes"].split(","),
                    expires_at=expires,
                    actor=Principal.system("manage.py api_key_create"),
                )
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                ) from None
        self.stdout.write(f"API key {created.key.name} ({created.key.prefix}) for {user.email}:")
        self.stdout.write(created.plaintext)
        self.stdout.write("Store it now: it is not shown again.")
