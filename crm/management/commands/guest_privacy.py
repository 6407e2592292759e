"""``manage.py guest_privacy export --tenant harbour --guest 12 [--format json|zip]
[--output guest-12.zip] [--by dpo@harbour.example] [--reason "..."]``

``manage.py guest_privacy erase --tenant harbour --guest 12 --confirm 12 [--by ...]
[--reason "..."]``

A data-subject request handled from the shell, through the same services as the profile
and the API (``crm.services.privacy``), so it is logged as a privacy request like them.
``--by`` names the administrator the request is recorded for (they must be one); without
it the platform acts, named as this command. Erasure cannot be undone: ``--confirm``
repeats the guest's id."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants.access.principal import Principal
from tenants.errors import ApplicationError
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = "Export everything held on a guest, or erase the guest's personal data."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("--tenant", required=True, help="The hotel group's slug")
        parser.add_argument("--guest", required=True, type=int, help="The guest's id")
        parser.add_argument("--format", default="json", choices=["json", "zip"])
        parser.add_argument("--output", default="", help="File to write (default: stdout)")
        parser.add_argument("--by", default="", help="E-mail of the administrator acting")
        parser.add_argument("--reason", default="", help="Why (kept with the request)")
        parser.add_argument("--confirm", type=int, default=None, help="The guest's id again")

    def handle(self, *args, **options):
        from crm.models import Guest
        from crm.services.privacy import guest_erase, guest_export, guest_export_archive
        from tenants.users.models import User

        tenant = tenant_get_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"tenant: no hotel group with the slug {options['tenant']!r}.")
        if len(options["reason"]) > 200:
            raise CommandError("reason: at most 200 characters.")
        with tenant_context(tenant):
            actor = Principal.system("manage.py guest_privacy")
            if options["by"]:
                user = User.objects.filter(email__iexact=options["by"], is_active=True).first()
                if user is None:
                    raise CommandError(f"by: no active staff account {options['by']!r}.")
                actor = Principal.of(user)
            guest = Guest.objects.filter(pk=options["guest"]).first()
            if guest is None:
                raise CommandError(f"guest: no guest with the id {options['guest']}.")
            try:
                if options["action"] == "export":
                    data = guest_export(guest=guest, actor=actor, reason=options["reason"])
                else:
                    if options["confirm"] != guest.pk:
                        raise CommandError(
                            f"confirm: repeat the guest's id (--confirm {guest.pk}); "
                            "erasure cannot be undone."
                        )
                    guest_erase(guest=guest, actor=actor, reason=options["reason"])
            except ApplicationError as exc:
                raise CommandError(f"{exc.field or options['action']}: {exc.message}") from exc
        if options["action"] == "erase":
            self.stdout.write(self.style.SUCCESS(f"Erased guest {guest.pk} in {tenant.slug}."))
            return
        content = (
            guest_export_archive(data=data)
            if options["format"] == "zip"
            else json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        )
        if options["output"]:
            Path(options["output"]).write_bytes(content)
            self.stderr.write(f"Wrote {len(content)} bytes to {options['output']}.")
        elif options["format"] == "zip":
            raise CommandError("output: a zip is written to a file; give --output.")
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
