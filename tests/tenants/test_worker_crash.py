"""A worker killed (SIGKILL) in the middle of an import, with the real broker (Redis when
CELERY_BROKER_URL is set, else the filesystem transport) and real worker processes: once
the job's lease has run out, the sweeper queues it again (or, with Redis, the message
the dead worker never acknowledged comes back), a new worker resumes after the last
committed chunk, and every row is imported exactly once.

The kill is made to land inside a chunk's transaction: the test holds the job's row, so
the worker, having written a chunk's rows, waits at that chunk's checkpoint; it is killed
there, and the database rolls the chunk back with its checkpoint."""

from __future__ import annotations

import csv
import io
import time

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Guest, GuestExternalId, ImportUpload, RecordChange
from crm.services.imports import CHUNK, import_start
from tenants.access.principal import Principal
from tenants.jobs import tasks
from tenants.jobs.models import Job
from tests.celery_worker import (
    backends_waiting_on_a_lock,
    database_url,
    worker_kill,
    worker_start,
    worker_stop,
)

ROWS = 4 * CHUNK + 500  # five chunks
BAD_DATES = {10, CHUNK + 7, 4 * CHUNK + 100}  # row numbers as a spreadsheet shows them
DUPLICATE = (5, 3 * CHUNK + 50)  # an external id first in chunk 1, again in chunk 4
# Short leases and queue deadlines, so the sweeper acts within the test.
FAST = {"ATRIUM_JOB_LEASE_SECONDS": "3", "ATRIUM_QUEUED_TIMEOUT_SECONDS": "5"}


def _csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["PMS id", "First", "Last", "Born"])
    for number in range(2, ROWS + 2):
        external = "CRASH-DUP" if number in DUPLICATE else ""
        born = "1999-13-01" if number in BAD_DATES else ""
        # Most rows have no external id: imported twice, they would be two guests.
        writer.writerow([external, f"Row{number}", f"Crash{number:06d}", born])
    return buffer.getvalue().encode()


def _wait(predicate, lines, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker said:\n" + "".join(lines[-40:]))


def _job(pk) -> Job:
    with schema_context("alpha"):
        return Job.objects.get(pk=pk)


def _imported() -> list[str]:
    with schema_context("alpha"):
        return list(
            Guest.objects.filter(surname__startswith="Crash").values_list("surname", flat=True)
        )


@pytest.fixture
def killed_import(django_db_setup, django_db_blocker, settings):
    """An import whose worker was killed inside its second chunk's transaction: the
    job's pk and its last committed checkpoint. Starts more workers on demand; removes
    workers, guests and the job afterwards."""
    settings.ATRIUM_QUEUED_TIMEOUT_SECONDS = 5  # the job's queue deadline is set here
    workers: list = []
    made: dict = {}

    def start(extra=None, name="crash"):
        proc, lines = worker_start({**FAST, **(extra or {})}, name=name)
        workers.append(proc)
        return lines

    def kill():
        lines = start(name="crash1")
        with schema_context("alpha"):
            from tenants.users.models import User

            admin = User.objects.get(email="admin@alpha.test")
            job = import_start(
                object_api_name="guest",
                file_name="crash.csv",
                content=_csv(),
                mapping={
                    "PMS id": "external_id",
                    "First": "given_name",
                    "Last": "surname",
                    "Born": "birth_date",
                },  # fmt: skip
                dry_run=False,
                actor=Principal.of(admin),
            )
        made.update(job=job.pk, upload=job.payload["upload"])
        _wait(lambda: _job(job.pk).checkpoint, lines, "the first chunk")

        # Hold the job's row: the worker's next checkpoint waits, its chunk written but
        # not committed. Kill it there.
        holder = psycopg.connect(database_url())
        try:
            committed = holder.execute(
                "SELECT checkpoint FROM alpha.jobs_job WHERE id = %s FOR UPDATE", [job.pk]
            ).fetchone()[0]
            _wait(
                lambda: backends_waiting_on_a_lock('UPDATE "jobs_job"'),
                lines,
                "the worker to reach its next checkpoint",
            )
            worker_kill(workers[-1])
        finally:
            holder.rollback()
            holder.close()
        time.sleep(1)  # the dead worker's session notices and rolls back

        # Left behind: "running" under a dead owner, with exactly the rows of the
        # committed chunks in the table.
        dead = _job(job.pk)
        assert dead.status == "running" and dead.attempts == 1
        assert dead.checkpoint == committed and committed["row"] < ROWS + 1
        assert len(_imported()) == committed["report"]["created"]
        return job.pk

    with django_db_blocker.unblock():
        try:
            yield kill, start
        finally:
            for proc in workers:
                if proc.poll() is None:
                    worker_stop(proc)
            with schema_context("alpha"):
                guests = Guest.objects.filter(surname__startswith="Crash")
                RecordChange.objects.filter(
                    record_id__in=[str(pk) for pk in guests.values_list("pk", flat=True)]
                ).delete()
                guests.delete()
                Job.objects.filter(pk=made.get("job")).delete()
                for left in ImportUpload.objects.filter(pk=made.get("upload")):
                    left.path.unlink(missing_ok=True)
                    left.delete()


def _finished_once(job_pk, lines) -> None:
    """The job resumed and finished: every valid row exactly once, and the report an
    uninterrupted import gives."""
    done = _wait(
        lambda: _job(job_pk) if _job(job_pk).status in ("succeeded", "failed") else None,
        lines,
        "the job to finish",
    )
    assert done.status == "succeeded", (done.error, "".join(lines[-40:]))
    assert done.attempts == 2 and done.checkpoint is None and done.progress == 100
    surnames = _imported()
    expected = ROWS - len(BAD_DATES) - 1
    assert len(surnames) == len(set(surnames)) == expected
    result = done.result
    assert (result["rows"], result["valid"], result["invalid"]) == (ROWS, expected, 4)
    assert (result["created"], result["updated"]) == (expected, 0)
    assert [e["row"] for e in result["errors"]] == sorted([*BAD_DATES, DUPLICATE[1]])
    with schema_context("alpha"):
        assert GuestExternalId.objects.filter(external_id="CRASH-DUP").count() == 1
        ids = Guest.objects.filter(surname__startswith="Crash").values_list("pk", flat=True)
        audit = RecordChange.objects.filter(action="import", record_id__in=[str(pk) for pk in ids])
        assert audit.count() == expected
        assert not ImportUpload.objects.filter(pk=done.payload["upload"]).exists()


def test_the_sweeper_resumes_an_import_whose_worker_was_killed(killed_import):
    kill, start = killed_import
    job_pk = kill()
    lines = start(name="crash2")
    _wait(lambda: _job(job_pk).lease_until < timezone.now(), lines, "the lease to run out")
    tasks.sweep_everywhere.delay()  # what beat sends every ATRIUM_SWEEP_SECONDS
    _finished_once(job_pk, lines)


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="kombu's filesystem transport deletes a message when a worker reads it, so a "
    "killed worker's message is never delivered again; the sweeper recovers that work "
    "(test_the_sweeper_resumes_an_import_whose_worker_was_killed). Runs with Redis "
    "(CELERY_BROKER_URL), as .ci/run does.",
)
def test_redis_delivers_a_killed_workers_message_again_and_it_resumes_the_import(
    killed_import,
):
    """No sweep here: the message the dead worker never acknowledged comes back once
    the visibility timeout (shortened) has passed, and takes over the expired job."""
    kill, start = killed_import
    job_pk = kill()
    deadline = time.monotonic() + 30
    while _job(job_pk).lease_until >= timezone.now():
        assert time.monotonic() < deadline, "the lease was never released"
        time.sleep(0.2)
    time.sleep(1)  # and the message is older than the visibility timeout below
    lines = start({"ATRIUM_BROKER_VISIBILITY_TIMEOUT": "5"}, name="crash3")
    _finished_once(job_pk, lines)
    assert any("run_job" in line and "received" in line for line in lines)


@pytest.mark.django_db
def test_the_crash_file_has_the_shape_the_test_relies_on():
    # (Also makes pytest-django set up the test database when this file runs alone.)
    rows = list(csv.reader(io.StringIO(_csv().decode())))
    assert len(rows) == ROWS + 1 and ROWS > 4 * CHUNK
    assert sum(1 for r in rows[1:] if r[0] == "CRASH-DUP") == 2
