"""What keeps a live worker's job its own. Outside the test transaction: the heartbeat
runs on a connection of its own, as in a worker."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenants.jobs import registry
from tenants.jobs.models import Job
from tenants.jobs.services import job_run


def test_heartbeat_renews_the_lease_of_a_long_job(django_db_setup, django_db_blocker, settings):
    """A single long statement (an index build) cannot renew its lease itself: a thread
    on its own connection does, as long as the process lives."""
    settings.ATRIUM_JOB_LEASE_SECONDS = 3  # a beat every second
    leases = []

    def slow(job):
        for _ in range(5):
            time.sleep(0.6)
            leases.append(Job.objects.get(pk=job.pk).lease_until)
        return {}

    registry.register_job_kind("test.slow", slow)
    with django_db_blocker.unblock(), schema_context("alpha"):
        job = Job.objects.create(kind="test.slow")  # committed, as a worker finds it
        try:
            assert not connection.in_atomic_block
            ran = job_run(job_id=str(job.pk))
            assert ran.status == "succeeded"
            assert len(set(leases)) >= 2, leases  # renewed while the handler ran
            assert leases[-1] > leases[0]
            assert Job.objects.get(pk=job.pk).lease_until is None  # finished: no lease
        finally:
            Job.objects.filter(pk=job.pk).delete()
            registry._kinds.pop("test.slow", None)


@pytest.mark.django_db
def test_no_heartbeat_inside_a_transaction(tenant_a):
    """Inside a transaction the claim is not committed and this connection holds the
    job's row: a heartbeat on another connection could only wait for it. (Tests run jobs
    in theirs; this also makes pytest-django set up the database when the file runs
    alone.)"""
    import threading

    registry.register_job_kind("test.quick", lambda job: {"threads": threading.active_count()})
    try:
        with schema_context("alpha"):
            before = threading.active_count()
            job = job_run(job_id=str(Job.objects.create(kind="test.quick").pk))
        assert job.status == "succeeded"
        assert job.result == {"threads": before}
    finally:
        registry._kinds.pop("test.quick", None)
