from django.conf import settings
from django.core.management.base import BaseCommand

from saas.embedded import database_ensure


class Command(BaseCommand):
    help = "Create the configured database if it does not exist (used by `make run`)."

    def handle(self, *args, **options):
        created = database_ensure(settings.DATABASE_URL)
        name = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"database {name} {'created' if created else 'exists'}")
