"""The import wizard: upload, dry-run report of every row, then the background import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Guest
from tenants.jobs.services import job_run
from tests.access.conftest import client_for

pytestmark = pytest.mark.django_db

CSV = (
    b"given_name,surname,email,nationality\n"
    b"Ana,Lima,ana@example.com,PT\n"
    b"Bo,Chen,not-an-email,CN\n"
    b"Cy,Diaz,cy@example.com,ES\n"
)


def test_wizard_checks_then_imports_the_valid_rows(make_user, alpha):
    client = client_for(make_user("general_manager"), alpha)

    checked = client.post(
        "/imports/", {"object": "guest", "file": SimpleUploadedFile("guests.csv", CSV)}
    )
    assert checked.status_code == 302 and checked["Location"] == "/imports/?step=report"
    report = client.get(checked["Location"]).content.decode()
    assert "3 rows: 2 valid (2 new, 0 updates), 1 with errors." in report
    assert "<td>3</td>" in report and "email" in report  # row 3 (the header is row 1)
    assert not Guest.objects.exists()  # a dry run writes nothing

    started = client.post("/imports/", {"action": "start"})
    assert started.status_code == 302
    job_id = started["Location"].rstrip("/").rsplit("/", 1)[1]
    assert "Queued" in client.get(started["Location"]).content.decode()
    job_run(job_id=job_id)  # what the worker does
    done = client.get(started["Location"]).content.decode()
    assert "3 rows: 2 created, 0 updated, 1 skipped with errors." in done
    assert sorted(Guest.objects.values_list("surname", flat=True)) == ["Diaz", "Lima"]

    again = client.post("/imports/", {"action": "start"})
    assert again.status_code == 400
    assert "Upload the file again" in again.content.decode()


def test_wizard_refuses_bad_files_with_a_clear_message(make_user, alpha):
    client = client_for(make_user("general_manager"), alpha)
    wrong = client.post(
        "/imports/", {"object": "guest", "file": SimpleUploadedFile("guests.pdf", b"%PDF")}
    )
    assert wrong.status_code == 400
    assert "guests.pdf: only .csv and .xlsx files can be imported." in wrong.content.decode()
    unmapped = client.post(
        "/imports/",
        {"object": "guest", "file": SimpleUploadedFile("g.csv", b"first,last\nAna,Lima\n")},
    )
    assert unmapped.status_code == 400
    assert "Required fields not mapped: surname." in unmapped.content.decode()
    none = client.post("/imports/", {"object": "guest"})
    assert none.status_code == 400 and "Choose a .csv or .xlsx file." in none.content.decode()


def test_wizard_needs_create_and_edit_rights(make_user, alpha):
    client = client_for(make_user("read_only"), alpha)
    refused = client.post(
        "/imports/", {"object": "guest", "file": SimpleUploadedFile("guests.csv", CSV)}
    )
    assert refused.status_code == 403
