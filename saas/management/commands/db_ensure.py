from django.conf import settings
from django.core.management.base import BaseCommand

from saas import embedded
from saas.embedded import database_ensure


class Command(BaseCommand):
    help = "Create the configured database if it does not exist (used by `make run`)."

    def handle(self, *args, **options):
        if getattr(settings, "ATRIUM_EMBEDDED_DATABASE", False):
            embedded.embedded_database_start(None)  # the server, not yet the database
        created = database_ensure(settings.DATABASE_URL)
        name = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"database {name} {'created' if created else 'exists'}")
