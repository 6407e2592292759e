"""A job that says "running" has an owner and a deadline: the worker that claimed it and
a lease it renews. A message delivered again leaves a live job alone and takes over a
dead one; the sweeper queues again (or fails) what dead workers left behind and sends
again what no worker took."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.jobs import registry, services, tasks
from tenants.jobs.models import Job
from tenants.jobs.services import LeaseLost, job_checkpoint, job_claim, job_run, job_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Job ids sent to the broker (after commit) instead of a worker."""
    out: list[str] = []
    monkeypatch.setattr(tasks.run_job, "delay", lambda job_id: out.append(job_id))
    return out


@pytest.fixture
def kind():
    """A job kind whose handler the test decides."""
    calls: list[Job] = []
    checkpoints: list = []
    abandoned: list[Job] = []

    def handler(job):
        calls.append(job)
        checkpoints.append(job.checkpoint)
        return {"ok": True}

    registry.register_job_kind("test.lease", handler, abandoned=abandoned.append)
    yield {"calls": calls, "checkpoints": checkpoints, "abandoned": abandoned}
    registry._kinds.pop("test.lease", None)


def _job(**fields) -> Job:
    return Job.objects.create(kind="test.lease", **fields)


def test_a_claim_names_its_worker_and_holds_a_lease(tenant_a, kind):
    with tenant_context(tenant_a):
        job = _job(lease_until=timezone.now() + timedelta(minutes=15))
        claimed, mine = job_claim(job_id=str(job.pk))
        assert mine
        assert claimed.status == Job.Status.RUNNING and claimed.attempts == 1
        host, pid, token = claimed.locked_by.split(":")
        assert (pid, len(token)) == (str(os.getpid()), 8)
        lease = (claimed.lease_until - claimed.heartbeat_at).total_seconds()
        assert lease == settings.ATRIUM_JOB_LEASE_SECONDS

        # The same message again while the owner lives: left alone.
        again, mine = job_claim(job_id=str(job.pk))
        assert not mine and again.locked_by == claimed.locked_by


def test_a_job_whose_worker_died_is_taken_over_by_the_message_delivered_again(tenant_a, kind):
    with tenant_context(tenant_a):
        job = _job(
            status=Job.Status.RUNNING,
            attempts=1,
            locked_by="dead-host:1:cafecafe",
            started=timezone.now() - timedelta(minutes=10),
            lease_until=timezone.now() - timedelta(seconds=1),
            checkpoint={"row": 2001},
        )
        ran = job_run(job_id=str(job.pk))
        assert ran.status == Job.Status.SUCCEEDED
        assert kind["checkpoints"] == [{"row": 2001}]  # the handler resumes there
        job.refresh_from_db()
        assert job.attempts == 2 and job.locked_by != "dead-host:1:cafecafe"
        assert job.checkpoint is None and job.lease_until is None
        assert job.result == {"ok": True} and job.error == ""


def test_a_job_that_killed_its_workers_too_often_is_failed_not_run(tenant_a, kind, settings):
    settings.ATRIUM_JOB_MAX_ATTEMPTS = 2
    with tenant_context(tenant_a):
        job = _job(
            status=Job.Status.RUNNING,
            attempts=2,
            locked_by="dead-host:1:cafecafe",
            lease_until=timezone.now() - timedelta(seconds=1),
        )
        job_run(job_id=str(job.pk))
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.error == "Stopped after 2 attempts: the worker running it stopped each time."
        assert kind["calls"] == []
        assert [j.pk for j in kind["abandoned"]] == [job.pk]


def test_a_checkpoint_needs_the_lease_and_rolls_its_chunk_back_without_it(tenant_a, kind):
    from crm.models import Company

    with tenant_context(tenant_a):
        job, _ = job_claim(job_id=str(_job().pk))
        with transaction.atomic():
            Company.objects.create(name="Chunk one")
            job_checkpoint(job=job, checkpoint={"row": 3}, progress=40)
        stored = Job.objects.get(pk=job.pk)
        assert (stored.checkpoint, stored.progress) == ({"row": 3}, 40)
        assert stored.lease_until > job.lease_until  # renewed with the chunk

        # The sweeper gave the job to another worker meanwhile.
        Job.objects.filter(pk=job.pk).update(locked_by="other-host:2:beefbeef")
        with pytest.raises(LeaseLost), transaction.atomic():
            Company.objects.create(name="Chunk two")
            job_checkpoint(job=job, checkpoint={"row": 5}, progress=80)
        assert list(Company.objects.values_list("name", flat=True)) == ["Chunk one"]
        assert Job.objects.get(pk=job.pk).checkpoint == {"row": 3}


def test_a_worker_that_lost_its_lease_does_not_write_the_outcome(tenant_a, kind):
    with tenant_context(tenant_a):
        job = _job()

        def taken_over(j):
            Job.objects.filter(pk=j.pk).update(locked_by="other-host:2:beefbeef")
            return {"mine": True}

        registry.register_job_kind("test.lease", taken_over)
        job_run(job_id=str(job.pk))
        job.refresh_from_db()
        assert (job.status, job.result, job.locked_by) == (
            Job.Status.RUNNING,
            {},
            "other-host:2:beefbeef",
        )


def test_sweep_requeues_the_dead_fails_the_hopeless_and_resends_the_lost(
    tenant_a, kind, sent, django_capture_on_commit_callbacks, settings
):
    settings.ATRIUM_JOB_MAX_ATTEMPTS = 3
    now = timezone.now()
    past, future = now - timedelta(seconds=1), now + timedelta(minutes=1)
    with tenant_context(tenant_a):
        dead = _job(status="running", attempts=1, locked_by="h:1:a", lease_until=past)
        hopeless = _job(status="running", attempts=3, locked_by="h:1:b", lease_until=past)
        alive = _job(status="running", attempts=1, locked_by="h:1:c", lease_until=future)
        lost = _job(status="queued", lease_until=past)
        waiting = _job(status="queued", lease_until=future)
        # Rows from before leases: judged by when they started or were created.
        legacy_running = _job(status="running", attempts=1, started=now - timedelta(hours=1))
        legacy_queued = _job(status="queued")
        Job.objects.filter(pk=legacy_queued.pk).update(created=now - timedelta(hours=1))
        done = _job(status="succeeded", lease_until=past)

        with django_capture_on_commit_callbacks(execute=True):
            counts = job_sweep(now=now)

        assert counts == {"requeued": 2, "failed": 1, "resent": 2}
        state = {j.pk: j for j in Job.objects.all()}
        assert (state[dead.pk].status, state[dead.pk].locked_by) == ("queued", "")
        assert state[dead.pk].error == "The worker running it (h:1:a) stopped; queued again."
        assert state[dead.pk].lease_until == now + timedelta(
            seconds=settings.ATRIUM_QUEUED_TIMEOUT_SECONDS
        )
        assert state[legacy_running.pk].status == "queued"
        assert state[hopeless.pk].status == "failed"
        assert "(h:1:b) stopped each time" in state[hopeless.pk].error
        assert [j.pk for j in kind["abandoned"]] == [hopeless.pk]
        assert state[alive.pk].status == "running" and state[alive.pk].locked_by == "h:1:c"
        assert state[waiting.pk].lease_until == future
        assert state[done.pk].status == "succeeded"
        assert sorted(sent) == sorted(
            str(j.pk) for j in (dead, legacy_running, lost, legacy_queued)
        )
        # Sent again, then taken by a worker: the job runs once.
        assert job_run(job_id=str(dead.pk)).status == "succeeded"
        assert job_run(job_id=str(dead.pk)).status == "succeeded"
        assert len(kind["calls"]) == 1


def test_the_sweeper_runs_every_registered_sweeper(tenant_a, monkeypatch):
    seen = []
    monkeypatch.setitem(
        registry._sweepers, "test", lambda: seen.append(connection.schema_name) or {"n": 1}
    )
    with tenant_context(tenant_a):
        counts = services.sweep()
    assert seen == ["alpha"]
    assert counts["test"] == {"n": 1}
    assert counts["jobs"] == {"requeued": 0, "failed": 0, "resent": 0}
    assert counts["workflow_runs"] == {"requeued": 0, "failed": 0, "resent": 0}


def test_beat_sweeps_every_working_tenant(tenant_a, tenant_b, monkeypatch):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stuck-work"]
    assert entry == {
        "task": "tenants.jobs.tasks.sweep_everywhere",
        "schedule": settings.ATRIUM_SWEEP_SECONDS,
    }
    seen: list[str] = []
    monkeypatch.setattr(tasks.sweep, "delay", lambda: seen.append(connection.schema_name))
    tenant_b.status = "suspended"
    tenant_b.save(update_fields=["status"])
    assert tasks.sweep_everywhere() == 1
    assert seen == ["alpha"]
