"""CSV/XLSX import (dry run, upsert by external id, background job) and export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context
from openpyxl import Workbook, load_workbook

from crm.models import (
    Company,
    Guest,
    GuestEmail,
    GuestExternalId,
    ImportUpload,
    RecordChange,
    Reservation,
    ReservationGuest,
)
from crm.services.exports import records_export
from crm.services.imports import import_file, import_start
from crm.services.properties import room_type_create
from metadata.services.definitions import custom_field_create
from tenants.access.principal import Principal
from tenants.jobs.models import Job
from tenants.jobs.services import job_run
from tests.crm.factories import make_property
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

GUEST_HEADER = ["PMS id", "Hotel", "First", "Last", "Born", "Mail", "Mobile", "Country", "VIP"]
MAPPING = {
    "PMS id": "external_id",
    "Hotel": "external_property",
    "First": "given_name",
    "Last": "surname",
    "Born": "birth_date",
    "Mail": "email",
    "Mobile": "phone",
    "Country": "nationality",
    "VIP": "vip_level",
}


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def errors_by_row(report) -> dict[int, set[str]]:
    return {e["row"]: {x["field"] for x in e["errors"]} for e in report["errors"]}


def test_dry_run_reports_every_row_error_and_writes_nothing(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        make_property(code="LIS1")
        path = write_csv(
            tmp_path / "guests.csv",
            GUEST_HEADER,
            [
                [
                    "A1",
                    "LIS1",
                    "Ana",
                    "Silva",
                    "1980-01-31",
                    "ana@example.com",
                    "+351912345678",
                    "PT",
                    "1",
                ],
                ["A2", "LIS1", "Rui", "Costa", "31/02/1980", "rui@example.com", "", "PT", ""],
                ["A3", "NOPE", "Eva", "Lima", "", "eva@example.com", "", "PT", ""],
                ["A4", "LIS1", "Joe", "Doe", "", "not-an-email", "", "US", ""],
                ["A1", "LIS1", "Ana", "Silva", "", "", "", "PT", ""],
                ["A6", "LIS1", "Max", "Bad", "1999-13-01", "max@", "12", "XX", "12"],
                ["A7", "", "Zoe", "", "", "", "", "", ""],
            ],
        )
        report = import_file(
            object_api_name="guest", path=path, mapping=MAPPING, dry_run=True, actor=SYSTEM
        )
        assert (report["rows"], report["valid"], report["invalid"]) == (7, 2, 5)
        assert report["would_create"] == 2 and report["would_update"] == 0
        rows = errors_by_row(report)
        assert rows == {
            3: {"birth_date"},
            4: {"external_property"},
            5: {"email"},
            6: {"external_id"},
            7: {"birth_date", "email", "vip_level", "nationality"},
        }
        messages = {e["row"]: [x["message"] for x in e["errors"]] for e in report["errors"]}
        assert "'31/02/1980' is not a date (use YYYY-MM-DD)" in messages[3][0]
        assert "unknown property 'NOPE'" in messages[4][0]
        assert "duplicate external id in file (first at row 2)" in messages[6][0]
        assert Guest.objects.count() == 0


def test_real_import_of_10k_rows_as_a_job_then_upsert(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        from tenants.users.models import User

        user = User.objects.get(email="admin@alpha.test")
        prop = make_property(code="HKG1", country="HK", currency="HKD")
        rows = [
            [
                f"G{i:05d}",
                "HKG1",
                f"Given{i}",
                f"Surname{i}",
                "1975-05-05",
                f"guest{i}@example.com",
                f"+85291{i:06d}",
                "HK",
                str(i % 5),
            ]
            for i in range(10_000)
        ]
        buffer = io.StringIO()
        csv.writer(buffer).writerows([GUEST_HEADER, *rows])
        job = import_start(
            object_api_name="guest",
            file_name="big.csv",
            content=buffer.getvalue().encode(),
            mapping=MAPPING,
            dry_run=False,
            actor=Principal.of(user),
        )
        job = job_run(job_id=str(job.pk))
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.progress == 100
        # The upload is not kept: neither its row nor its bytes.
        assert not ImportUpload.objects.filter(pk=job.payload["upload"]).exists()
        upload_id = uuid.UUID(job.payload["upload"])
        assert not (ImportUpload.folder() / f"{upload_id.hex}.csv").exists()
        assert (job.result["rows"], job.result["created"], job.result["invalid"]) == (
            10_000,
            10_000,
            0,
        )
        assert Guest.objects.count() == 10_000
        assert GuestExternalId.objects.filter(source="IMPORT", property=prop).count() == 10_000
        assert GuestEmail.objects.filter(is_primary=True).count() == 10_000
        g = Guest.objects.get(external_ids__external_id="G00042")
        assert (g.email, g.phone, g.vip_level, g.birth_date) == (
            "guest42@example.com",
            "+85291000042",
            2,
            date(1975, 5, 5),
        )
        assert (
            RecordChange.objects.filter(action="import", object_api_name="guest").count() == 10_000
        )

        # Same ids again, one surname and one e-mail changed: updates, no new profiles.
        rows[42][3] = "Renamed"
        rows[43][5] = "new43@example.com"
        path = write_csv(tmp_path / "again.csv", GUEST_HEADER, rows[40:50])
        report = import_file(
            object_api_name="guest",
            path=path,
            mapping=MAPPING,
            dry_run=False,
            actor=Principal.of(user),
        )
        assert (report["created"], report["updated"]) == (0, 10)
        assert Guest.objects.count() == 10_000
        assert Guest.objects.get(pk=g.pk).surname == "Renamed"
        g43 = Guest.objects.get(external_ids__external_id="G00043")
        assert g43.email == "new43@example.com"
        assert sorted(g43.emails.values_list("email", "is_primary")) == [
            ("guest43@example.com", False),
            ("new43@example.com", True),
        ]
        change = RecordChange.objects.get(record_id=str(g.pk), field="surname", action="update")
        assert (change.old, change.new, change.user_id) == ("Surname42", "Renamed", user.pk)


def test_xlsx_companies_and_reservations_with_statistics(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        prop = make_property(code="LIS2", currency="EUR")
        room_type_create(
            property=prop, code="DBL", name="Double", base_rate=Decimal("120"), actor=SYSTEM
        )
        write_csv(
            tmp_path / "g.csv",
            ["external_id", "given_name", "surname", "email"],
            [["P1", "Ana", "Silva", "ana@example.com"], ["P2", "Rui", "Costa", ""]],
        )
        import_file(object_api_name="guest", path=tmp_path / "g.csv", dry_run=False, actor=SYSTEM)

        book = Workbook()
        sheet = book.active
        sheet.append(["external_id", "name", "kind", "country", "phone"])
        sheet.append(["ACME", "Acme Corp", "corporate", "PT", "+351213000000"])
        sheet.append(["TRAV", "Trav Agency", "travel agent", "GB", "020 7946 0000"])
        book.save(tmp_path / "companies.xlsx")
        report = import_file(
            object_api_name="company",
            path=tmp_path / "companies.xlsx",
            dry_run=False,
            actor=SYSTEM,
        )
        assert report["created"] == 2, report
        assert Company.objects.get(external_id="TRAV").phone == "+442079460000"

        book = Workbook()
        sheet = book.active
        sheet.append(
            [
                "property",
                "confirmation_number",
                "status",
                "arrival",
                "departure",
                "room_type",
                "total_amount",
                "guest_external_id",
                "booker_company_external_id",
            ]
        )
        sheet.append(
            [
                "LIS2",
                "R1",
                "checked_out",
                date(2025, 3, 1),
                date(2025, 3, 4),
                "DBL",
                360,
                "P1",
                "ACME",
            ]
        )
        sheet.append(
            ["LIS2", "R2", "reserved", date(2026, 9, 1), date(2026, 9, 2), "", 99.5, "P1", ""]
        )
        sheet.append(["LIS2", "R3", "in_house", "2026-01-01", "2026-01-03", "SUITE", 10, "P2", ""])
        sheet.append(["LIS2", "R4", "in_house", "2026-01-01", "2026-01-03", "", 10, "P9", "NOPE"])
        book.save(tmp_path / "res.xlsx")
        report = import_file(
            object_api_name="reservation",
            path=tmp_path / "res.xlsx",
            dry_run=False,
            actor=SYSTEM,
        )
        assert (report["created"], report["invalid"]) == (2, 2), report
        assert errors_by_row(report) == {
            4: {"room_type"},
            5: {"guest_external_id", "booker_company_external_id"},
        }
        ana = Guest.objects.get(external_ids__external_id="P1")
        assert (ana.stays, ana.nights, ana.revenue) == (1, 3, Decimal("360.00"))
        r1 = Reservation.objects.get(confirmation_number="R1")
        assert r1.booker_company.external_id == "ACME" and r1.room_type.code == "DBL"
        assert ReservationGuest.objects.get(reservation=r1).guest_id == ana.pk

        # Re-sent with a cancellation: upserted, statistics follow.
        write_csv(
            tmp_path / "cancel.csv",
            [
                "property",
                "confirmation_number",
                "status",
                "arrival",
                "departure",
                "total_amount",
                "guest_external_id",
            ],
            [["LIS2", "R1", "cancelled", "2025-03-01", "2025-03-04", "360", "P1"]],
        )
        report = import_file(
            object_api_name="reservation",
            path=tmp_path / "cancel.csv",
            dry_run=False,
            actor=SYSTEM,
        )
        assert (report["created"], report["updated"]) == (0, 1)
        r1.refresh_from_db()
        assert r1.status == "cancelled" and r1.cancelled_at is not None
        ana.refresh_from_db()
        assert (ana.stays, ana.revenue) == (0, Decimal("0.00"))


def test_custom_columns_go_through_the_custom_value_path(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="loyalty",
            label="Loyalty",
            type="choice",
            choices=["gold", "silver"],
            actor=SYSTEM,
        )
        path = write_csv(
            tmp_path / "c.csv",
            ["surname", "Loyalty"],
            [["Silva", "gold"], ["Costa", "platinum"]],
        )
        mapping = {"surname": "surname", "Loyalty": "custom.loyalty"}
        report = import_file(object_api_name="guest", path=path, mapping=mapping, actor=SYSTEM)
        # The metadata engine's rules apply: the bad choice is refused, not dropped.
        assert report["invalid"] == 1
        error = report["errors"][0]["errors"][0]
        assert error["field"] == "custom.loyalty" and "gold" in error["message"]
        import_file(
            object_api_name="guest", path=path, mapping=mapping, dry_run=False, actor=SYSTEM
        )
        assert Guest.objects.get(surname="Silva").custom == {"loyalty": "gold"}
        assert not Guest.objects.filter(surname="Costa").exists()


def test_bad_mapping_refused(tenant_a, tmp_path):
    with tenant_context(tenant_a):
        path = write_csv(tmp_path / "m.csv", ["a", "b"], [["1", "2"]])
        with pytest.raises(ValidationError) as exc:
            import_file(
                object_api_name="guest", path=path, mapping={"a": "shoe_size"}, actor=SYSTEM
            )
        assert "mapping" in exc.value.message_dict


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_filtered_list_and_import_it_back(tenant_a, tmp_path, file_format):
    with tenant_context(tenant_a):
        make_property(code="LIS3")
        write_csv(
            tmp_path / "g.csv",
            [
                "external_id",
                "external_property",
                "given_name",
                "surname",
                "email",
                "nationality",
                "id_document_type",
                "id_document_number",
                "id_document_expiry",
            ],
            [
                [
                    "E1",
                    "LIS3",
                    "Ana",
                    "Silva",
                    "ana@example.com",
                    "PT",
                    "passport",
                    "PT123456",
                    "2030-01-01",
                ],
                ["E2", "LIS3", "Rui", "Costa", "rui@example.com", "PT", "", "", ""],
                ["E3", "LIS3", "Kim", "Lee", "kim@example.com", "KR", "", "", ""],
            ],
        )
        import_file(object_api_name="guest", path=tmp_path / "g.csv", dry_run=False, actor=SYSTEM)
        ana = Guest.objects.get(external_ids__external_id="E1")
        assert (ana.id_document_number, ana.id_document_expiry) == ("PT123456", date(2030, 1, 1))
        with connection.cursor() as cursor:  # the COPY path encrypts as well
            cursor.execute("SELECT crm_guest::text FROM crm_guest WHERE id = %s", [ana.pk])
            raw = cursor.fetchone()[0]
        assert "PT123456" not in raw and "2030-01-01" not in raw
        content = records_export(
            object_api_name="guest",
            queryset=Guest.objects.filter(nationality="PT").order_by("surname"),
            file_format=file_format,
        )
        out = tmp_path / f"export.{file_format}"
        out.write_bytes(content)
        if file_format == "csv":
            table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        else:
            table = [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)]
        header, body = table[0], table[1:]
        assert [r[header.index("surname")] for r in body] == ["Costa", "Silva"]
        assert [r[header.index("external_id")] for r in body] == ["E2", "E1"]
        # The identity number leaves masked.
        assert body[1][header.index("id_document_number")].endswith("3456")
        assert "PT123456" not in str(body)
        report = import_file(
            object_api_name="guest",
            path=out,
            mapping={h: h for h in header if h not in ("id_document_number", "id_document_expiry")},
            actor=SYSTEM,
        )
        assert (report["invalid"], report["would_update"], report["would_create"]) == (0, 2, 0), (
            report
        )


# --- interrupted imports resume where their committed rows end ---------------------------

RESUME_HEADER = ["PMS id", "First", "Last", "Born"]
RESUME_MAPPING = {
    "PMS id": "external_id",
    "First": "given_name",
    "Last": "surname",
    "Born": "birth_date",
}
# Chunks of 3 rows (rows 2-4, 5-7, 8-10, 11): a bad date in the first chunk, and in the
# third a duplicate of an external id first seen in the first, before the checkpoint.
RESUME_ROWS = [
    ["", "Ana", "Lima", ""],
    ["E1", "Bo", "Chen", ""],
    ["", "Bad", "Date", "1999-13-01"],
    ["", "Cid", "Moreau", ""],
    ["", "Dan", "Ng", ""],
    ["E2", "Eve", "Sato", ""],
    ["", "Fay", "Kim", ""],
    ["E1", "Dup", "Licate", ""],
    ["", "Gus", "Ito", ""],
    ["", "Hal", "Berg", ""],
]


class Killed(BaseException):
    """A worker's death as the import sees it: nothing after it runs, no handler catches
    it (not an Exception)."""


def _kill_at(chunk: int, states: list):
    def checkpoint(state, percent):
        states.append((state, percent))
        if len(states) == chunk:
            raise Killed

    return checkpoint


def test_an_interrupted_import_resumes_after_its_last_committed_row(
    tenant_a, tmp_path, monkeypatch
):
    monkeypatch.setattr("crm.services.imports.CHUNK", 3)
    with tenant_context(tenant_a):
        path = write_csv(tmp_path / "guests.csv", RESUME_HEADER, RESUME_ROWS)
        args = {"object_api_name": "guest", "path": path, "mapping": RESUME_MAPPING}
        expected = import_file(**args, dry_run=True, actor=SYSTEM)

        states: list = []
        with pytest.raises(Killed):
            import_file(**args, dry_run=False, actor=SYSTEM, checkpoint=_kill_at(2, states))
        # The first chunk committed with its checkpoint; the second died in its
        # transaction, checkpoint and rows together.
        [(first, percent), _] = states
        assert (first["row"], percent) == (4, 30)
        assert (first["report"]["rows"], first["report"]["created"]) == (3, 2)
        assert sorted(Guest.objects.values_list("given_name", flat=True)) == ["Ana", "Bo"]

        more: list = []
        report = import_file(
            **args, dry_run=False, actor=SYSTEM, checkpoint=_kill_at(0, more), resume=first
        )
        assert [s["row"] for s, _ in more] == [7, 10, 11]  # after the committed rows only
        # Every row once, and the report of an import never interrupted.
        assert sorted(Guest.objects.values_list("given_name", flat=True)) == [
            "Ana", "Bo", "Cid", "Dan", "Eve", "Fay", "Gus", "Hal",
        ]  # fmt: skip
        assert report == {
            **{k: v for k, v in expected.items() if not k.startswith("would_")},
            "dry_run": False,
            "created": expected["would_create"],
            "updated": expected["would_update"],
        }
        assert errors_by_row(report) == {4: {"birth_date"}, 9: {"external_id"}}
        assert "first at row 3" in report["errors"][1]["errors"][0]["message"]
        assert RecordChange.objects.filter(action="import").count() == 8


def _import_job(tmp_path, user, rows=RESUME_ROWS):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([RESUME_HEADER, *rows])
    return import_start(
        object_api_name="guest",
        file_name="resume.csv",
        content=buffer.getvalue().encode(),
        mapping=RESUME_MAPPING,
        dry_run=False,
        actor=Principal.of(user),
    )


def test_an_import_job_taken_over_after_its_worker_died_imports_each_row_once(
    tenant_a, tmp_path, monkeypatch
):
    from django.utils import timezone

    from tenants.jobs import services as jobs
    from tenants.users.models import User

    monkeypatch.setattr("crm.services.imports.CHUNK", 3)
    with tenant_context(tenant_a):
        user = User.objects.get(email="admin@alpha.test")
        job = _import_job(tmp_path, user)
        write = jobs.job_checkpoint
        calls = []

        def dies_in_third_chunk(*, job, checkpoint, progress=None):
            calls.append(checkpoint.get("row"))
            write(job=job, checkpoint=checkpoint, progress=progress)
            if len(calls) == 3:
                raise Killed  # after the write, before the commit

        monkeypatch.setattr(jobs, "job_checkpoint", dies_in_third_chunk)
        with pytest.raises(Killed):
            job_run(job_id=str(job.pk))
        job.refresh_from_db()
        assert (job.status, job.attempts, job.checkpoint["row"], job.progress) == (
            "running",
            1,
            7,
            60,
        )
        assert Guest.objects.count() == 5  # rows 2-7 less the bad date
        assert ImportUpload.objects.filter(pk=job.payload["upload"]).exists()  # kept

        monkeypatch.setattr(jobs, "job_checkpoint", write)
        Job.objects.filter(pk=job.pk).update(lease_until=timezone.now())  # ran out
        job = job_run(job_id=str(job.pk))  # the message delivered again
        assert job.status == "succeeded", job.error
        assert job.attempts == 2 and job.checkpoint is None
        assert (job.result["rows"], job.result["created"], job.result["invalid"]) == (10, 8, 2)
        assert job.result["file_name"] == "resume.csv"
        assert Guest.objects.count() == 8
        assert GuestExternalId.objects.filter(external_id="E1").count() == 1
        assert not ImportUpload.objects.filter(pk=job.payload["upload"]).exists()


def test_an_import_that_finished_before_its_worker_died_only_tidies_up(tenant_a, tmp_path):
    from django.utils import timezone

    from tenants.users.models import User

    with tenant_context(tenant_a):
        user = User.objects.get(email="admin@alpha.test")
        job = _import_job(tmp_path, user)
        result = {"object": "guest", "rows": 10, "created": 8, "file_name": "resume.csv"}
        Job.objects.filter(pk=job.pk).update(
            status="running",
            attempts=1,
            locked_by="dead-host:1:cafecafe",
            lease_until=timezone.now(),
            checkpoint={"done": True, "result": result},
        )
        job = job_run(job_id=str(job.pk))
        assert (job.status, job.result) == ("succeeded", result)
        assert Guest.objects.count() == 0  # not imported a second time
        assert not ImportUpload.objects.filter(pk=job.payload["upload"]).exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_abandoned_import_drops_its_file_unless_a_dry_run(tenant_a, tmp_path, dry_run):
    from crm.services.imports import import_job_abandoned
    from tenants.users.models import User

    with tenant_context(tenant_a):
        user = User.objects.get(email="admin@alpha.test")
        job = _import_job(tmp_path, user)
        if dry_run:
            job.payload = {**job.payload, "dry_run": True}
        upload = ImportUpload.objects.get(pk=job.payload["upload"])
        import_job_abandoned(job)
        assert ImportUpload.objects.filter(pk=upload.pk).exists() is dry_run
        assert upload.path.exists() is dry_run


def test_imported_records_are_announced_like_single_writes(tenant_a, tmp_path):
    """Webhooks and workflows hear of every imported record: a creation per new guest
    with its values (sensitive ones masked), an update with the changed fields."""
    from metadata import events

    heard: list = []
    events.record_event_subscribe(heard.append)
    try:
        with tenant_context(tenant_a):
            make_property(code="EVT1")
            rows = [
                ["E1", "EVT1", "Ana", "Silva", "1980-01-31", "ana@example.com", "", "PT", "1"],
                ["E2", "EVT1", "Rui", "Costa", "", "", "", "PT", ""],
            ]
            path = write_csv(tmp_path / "guests.csv", GUEST_HEADER, rows)
            import_file(
                object_api_name="guest", path=path, mapping=MAPPING, dry_run=False, actor=SYSTEM
            )
            created = [e for e in heard if e.object_api_name == "guest" and e.action == "created"]
            assert sorted(e.new["surname"] for e in created) == ["Costa", "Silva"]
            heard.clear()
            rows[1][3] = "Costa-Lima"
            path = write_csv(tmp_path / "again.csv", GUEST_HEADER, rows)
            import_file(
                object_api_name="guest", path=path, mapping=MAPPING, dry_run=False, actor=SYSTEM
            )
            [update] = [e for e in heard if e.action == "updated"]
            assert update.changed == {"surname"} and update.new["surname"] == "Costa-Lima"
    finally:
        events._handlers.remove(heard.append)


def _import_queries(tmp_path, name: str, first: int, count: int) -> int:
    path = write_csv(
        tmp_path / name,
        GUEST_HEADER,
        [
            [f"Q{n}", "LIS1", "Ana", f"Q{n}", "1980-01-31", f"q{n}@example.com", "", "PT", "1"]
            for n in range(first, first + count)
        ],
    )
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        report = import_file(
            object_api_name="guest", path=path, mapping=MAPPING, dry_run=False, actor=SYSTEM
        )
    assert report["created"] == count
    return len(queries.captured_queries)


def test_import_queries_do_not_grow_with_the_rows_of_a_chunk(tenant_a, tmp_path):
    """Outside a request nothing cached the rights and definitions versions, so every row
    read them twice (two queries per row); a chunk now reads them once."""
    with tenant_context(tenant_a):
        make_property(code="LIS1")
        _import_queries(tmp_path, "warm.csv", 0, 5)  # first-use caches out of the way
        few = _import_queries(tmp_path, "few.csv", 100, 10)
        many = _import_queries(tmp_path, "many.csv", 200, 60)
        assert many - few < 10, (few, many)
