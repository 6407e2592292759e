"""``manage.py workflow_template_import --tenant harbour --template post_stay_survey``
(``--template all`` for every one; ``--apply`` to write, else a dry run; ``--enable``
to switch the imported workflows on)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from metadata.services.workflows import workflow_template_import, workflow_template_names
from tenants.access.principal import Principal
from tenants.errors import ApplicationError
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = "Import workflow templates (pre-arrival, post-stay survey, VIP arrival, ...)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--template", required=True, help="Template name, or all")
        parser.add_argument("--apply", action="store_true", help="Write (default: dry run)")
        parser.add_argument("--enable", action="store_true", help="Switch the workflows on")

    def handle(self, *args, **options):
        tenant = tenant_get_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"There is no tenant {options['tenant']!r}.")
        names = workflow_template_names() if options["template"] == "all" else [options["template"]]
        with tenant_context(tenant):
            for name in names:
                try:
                    plan = workflow_template_import(
                        name=name,
                        dry_run=not options["apply"],
                        enabled=options["enable"],
                        actor=Principal.system("command"),
                    )
                except ApplicationError as exc:
                    raise CommandError(exc.message) from exc
                self.stdout.write(json.dumps(plan))
