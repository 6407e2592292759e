"""Write (or, with --check, compare) the committed snapshot of the base OpenAPI schema:
what every tenant's /api/v1/schema/ holds before its own custom fields and objects."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from saas.api.openapi import base_schema
from tenants.models import Tenant

SNAPSHOT = Path(__file__).resolve().parents[2] / "api" / "openapi_snapshot" / "base.json"


def base_schema_text() -> str:
    return json.dumps(base_schema(), indent=1, sort_keys=True, default=str) + "\n"


class Command(BaseCommand):
    help = "Write the base OpenAPI schema snapshot (saas/api/openapi_snapshot/base.json)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if the API drifted.")

    def handle(self, *args, check: bool = False, **options):
        tenant = Tenant.objects.filter(kind=Tenant.Kind.HOTEL_GROUP).order_by("pk").first()
        if tenant is None:
            raise CommandError("Needs one hotel group to read built-in objects from.")
        with tenant_context(tenant):
            text = base_schema_text()
        if check:
            if not SNAPSHOT.exists() or SNAPSHOT.read_text() != text:
                raise CommandError(
                    "The API schema differs from the snapshot; review the change and run "
                    "`python manage.py api_schema_snapshot`."
                )
            self.stdout.write("The API schema matches the snapshot.")
            return
        SNAPSHOT.write_text(text)
        self.stdout.write(f"Wrote {SNAPSHOT}")
