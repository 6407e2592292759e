"""Index builds of filterable fields: two made filterable together both get their index
(builds on one table take turns instead of deadlocking), a build aborted by a deadlock
is tried again, a failed build says so and can be retried, and describe shows the real
status in every process."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from metadata.models import FieldDefinition, MetadataChange
from metadata.selectors.definitions import object_describe
from metadata.services import indexes
from metadata.services.definitions import (
    custom_field_archive,
    custom_field_create,
    custom_field_purge,
)
from metadata.services.indexes import JOB_KIND, field_index_retry
from tenants.errors import Conflict
from tenants.jobs.models import Job
from tenants.jobs.services import job_run, job_sweep
from tests.api.test_records_api import api, patch
from tests.celery_worker import database_url
from tests.principals import SYSTEM


def _field(name: str) -> FieldDefinition:
    return FieldDefinition.objects.get(object__api_name="guest", api_name=name)


def _job_of(name: str) -> Job:
    return Job.objects.filter(kind=JOB_KIND, payload__field_id=_field(name).pk).latest("created")


def _described(name: str) -> str:
    fields = object_describe("guest", "en")["fields"]
    return next(f["index_status"] for f in fields if f["api_name"] == name)


def _index_valid(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            [_field(name).index_name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# --- builds outside a transaction, as a worker runs them -----------------------------------


@pytest.fixture
def committed_fields(django_db_setup, django_db_blocker, monkeypatch):
    """Filterable integer fields on alpha's guests, committed (the builds run on other
    connections), removed again afterwards with their indexes and audit rows."""
    from tenants.jobs import tasks

    monkeypatch.setattr(tasks.run_job, "delay", lambda job_id: None)  # the test runs them
    made: list[str] = []

    def make(*names: str) -> list[Job]:
        with schema_context("alpha"):
            for name in names:
                custom_field_create(
                    object_api_name="guest",
                    api_name=name,
                    label=name,
                    type="integer",
                    filterable=True,
                    actor=SYSTEM,
                )
                made.append(name)
            return [_job_of(name) for name in names]

    with django_db_blocker.unblock():
        yield make
        with schema_context("alpha"):
            for name in made:
                Job.objects.filter(kind=JOB_KIND, payload__field_id=_field(name).pk).delete()
                custom_field_archive(object_api_name="guest", api_name=name, actor=SYSTEM)
                custom_field_purge(
                    object_api_name="guest", api_name=name, confirm=name, actor=SYSTEM
                )
            MetadataChange.objects.filter(target__in=[f"guest.{n}" for n in made]).delete()
        connection.set_schema_to_public()


def _build_in_thread(job: Job, results: dict) -> threading.Thread:
    def build():
        try:
            with schema_context("alpha"):
                results[job.pk] = job_run(job_id=str(job.pk)).status
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=build)
    thread.start()
    return thread


def _builds_waiting() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%' "
            "AND wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def test_two_fields_made_filterable_together_both_get_their_index(committed_fields):
    first, second = committed_fields("rel_points_a", "rel_points_b")
    # Another session's open snapshot keeps the first build waiting (CREATE INDEX
    # CONCURRENTLY waits for older transactions), so the second starts while the first
    # runs. Unserialised, the second then waits for the first's table lock while the
    # first waits for the second's transaction: PostgreSQL aborts one of them.
    holder = psycopg.connect(database_url())
    try:
        holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT count(*) FROM alpha.crm_guest")
        results: dict = {}
        threads = [_build_in_thread(first, results)]
        deadline = time.monotonic() + 20
        while _builds_waiting() < 1:
            assert time.monotonic() < deadline, "the first build never started"
            time.sleep(0.1)
        threads.append(_build_in_thread(second, results))
        time.sleep(2)  # the second build is waiting its turn by now
        holder.commit()
        for thread in threads:
            thread.join(120)
    finally:
        holder.close()
    assert results == {first.pk: "succeeded", second.pk: "succeeded"}
    with schema_context("alpha"):
        for name in ("rel_points_a", "rel_points_b"):
            field = _field(name)
            assert (field.index_status, field.index_error) == ("ready", "")
            assert _index_valid(name) is True


def test_a_build_aborted_by_a_deadlock_is_tried_again(committed_fields, monkeypatch):
    [job] = committed_fields("rel_points_c")
    real, calls = indexes._build, []

    def deadlocks_once(field, table, *, concurrently):
        calls.append(concurrently)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected()
        real(field, table, concurrently=concurrently)

    monkeypatch.setattr(indexes, "_build", deadlocks_once)
    monkeypatch.setattr(indexes.time, "sleep", lambda seconds: None)
    with schema_context("alpha"):
        assert job_run(job_id=str(job.pk)).status == "succeeded"
        assert calls == [True, True]
        assert _field("rel_points_c").index_status == "ready"
        assert _index_valid("rel_points_c") is True


# --- in the test's transaction ------------------------------------------------------------


@pytest.mark.django_db
def test_describe_shows_the_real_index_status(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="rel_tier",
            label="Tier",
            type="text",
            filterable=True,
            actor=SYSTEM,
        )
        assert _described("rel_tier") == "pending"
        job_run(job_id=str(_job_of("rel_tier").pk))
        # Every process caches definitions by metadata version: the build's status
        # changes take a new one, or describe would say "pending" for good.
        assert _described("rel_tier") == "ready"


@pytest.mark.django_db
def test_a_failed_build_says_so_and_a_field_patch_retries_it(tenant_a, monkeypatch):
    def full(field, table, *, concurrently):
        raise RuntimeError("could not extend file: No space left on device")

    monkeypatch.setattr(indexes, "_build", full)
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="rel_tier",
            label="Tier",
            type="text",
            filterable=True,
            actor=SYSTEM,
        )
        failed = job_run(job_id=str(_job_of("rel_tier").pk))
        assert failed.status == "failed" and "No space left" in failed.error
        assert _field("rel_tier").index_error == "could not extend file: No space left on device"
        assert _described("rel_tier") == "failed"
    monkeypatch.undo()

    client = api(tenant_a)
    path = "/api/v1/metadata/objects/guest/fields/rel_tier/"
    retried = patch(client, path, {"filterable": True})
    assert retried.status_code == 200, retried.content
    assert retried.json()["index_status"] == "pending"
    with tenant_context(tenant_a):
        job = _job_of("rel_tier")
        assert job.pk != failed.pk and job.status == "queued"
        assert job_run(job_id=str(job.pk)).status == "succeeded"
        assert _described("rel_tier") == "ready" and _index_valid("rel_tier") is True
    # Asked again once built: nothing to retry, nothing queued.
    assert patch(client, path, {"filterable": True}).json()["index_status"] == "ready"
    with tenant_context(tenant_a):
        assert Job.objects.filter(kind=JOB_KIND, status="queued").count() == 0
        with pytest.raises(Conflict) as refused:
            field_index_retry(field=_field("rel_tier"), actor=SYSTEM)
        assert refused.value.code == "index_not_failed"


@pytest.mark.django_db
def test_a_build_the_sweeper_gives_up_on_leaves_its_field_failed(tenant_a, settings):
    settings.ATRIUM_JOB_MAX_ATTEMPTS = 2
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="rel_tier",
            label="Tier",
            type="text",
            filterable=True,
            actor=SYSTEM,
        )
        FieldDefinition.objects.filter(api_name="rel_tier").update(index_status="building")
        Job.objects.filter(pk=_job_of("rel_tier").pk).update(
            status="running",
            attempts=2,
            locked_by="dead-host:1:cafecafe",
            lease_until=timezone.now() - timedelta(seconds=1),
        )
        assert job_sweep()["failed"] == 1
        field = _field("rel_tier")
        assert field.index_status == "failed"
        assert "stopped each time" in field.index_error
        assert _described("rel_tier") == "failed"
