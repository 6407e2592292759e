"""``manage.py guest_privacy``: export to a file, erase only with the id repeated, each
logged as a privacy request for the administrator named."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from crm.models import Guest, PrivacyRequest
from tenants.users.models import User
from tests.crm.factories import make_guest

pytestmark = pytest.mark.django_db


def test_export_writes_json_or_zip_and_is_logged(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        guest = make_guest(given_name="Cmd", surname="Exported", emails=["cmd@example.org"])
        admin = User.objects.get(email="admin@alpha.test")
    target = tmp_path / "g.json"
    call_command("guest_privacy", "export", tenant="alpha", guest=guest.pk, output=str(target),
                 by="admin@alpha.test", reason="request 4")  # fmt: skip
    assert json.loads(target.read_text())["emails"][0]["email"] == "cmd@example.org"
    packed = tmp_path / "g.zip"
    call_command("guest_privacy", "export", tenant="alpha", guest=guest.pk, format="zip",
                 output=str(packed))  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(packed.read_bytes()))
    assert "Exported" in archive.read("profile.csv").decode("utf-8-sig")
    with tenant_context(tenant_a):
        logged = list(
            PrivacyRequest.objects.filter(guest_id=guest.pk)
            .order_by("pk")
            .values_list("kind", "user_id", "reason")
        )
    assert logged == [("export", admin.pk, "request 4"), ("export", None, "")]


def test_erase_needs_the_id_repeated_and_an_administrator(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(given_name="Cmd", surname="Erasable")
        User.objects.create_user(email="plain@alpha.test", password="p" * 16)
    with pytest.raises(CommandError, match="confirm"):
        call_command("guest_privacy", "erase", tenant="alpha", guest=guest.pk)
    with pytest.raises(CommandError, match="administrators"):
        call_command("guest_privacy", "erase", tenant="alpha", guest=guest.pk,
                     confirm=guest.pk, by="plain@alpha.test")  # fmt: skip
    with pytest.raises(CommandError, match="guest: no guest"):
        call_command("guest_privacy", "erase", tenant="alpha", guest=99999999, confirm=1)
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).erased_at is None
    out = io.StringIO()
    call_command("guest_privacy", "erase", tenant="alpha", guest=guest.pk, confirm=guest.pk,
                 by="admin@alpha.test", reason="asked", stdout=out)  # fmt: skip
    assert f"Erased guest {guest.pk} in alpha." in out.getvalue()
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=guest.pk).surname == f"#{guest.pk}"
        assert PrivacyRequest.objects.filter(guest_id=guest.pk, kind="erase").count() == 1
