"""A task queued from a tenant's request runs in a real Celery worker (real broker:
Redis when CELERY_BROKER_URL is set, else the filesystem transport) against that
tenant's schema."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from tenants.jobs.models import Job
from tests.conftest import tenant_client


def test_task_queued_from_tenant_request_runs_in_that_schema(
    celery_worker_process, tenant_a, django_db_blocker
):
    with django_db_blocker.unblock():
        client = tenant_client(tenant_a)
        response = client.post(
            "/api/v1/jobs/",
            {"kind": "diagnostic", "payload": {"echo": "from-test"}},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        job_id = response.json()["id"]
        assert response.json()["status"] == "queued"

        deadline = time.monotonic() + 90
        job = None
        while time.monotonic() < deadline:
            with schema_context(tenant_a.schema_name):
                job = Job.objects.get(pk=job_id)
            if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
                break
            time.sleep(0.3)
        try:
            assert job is not None
            assert job.status == Job.Status.SUCCEEDED, (
                job.status,
                job.error,
                "".join(celery_worker_process[-30:]),
            )
            assert job.result["schema"] == "alpha"
            assert job.result["tenant_schema"] == "alpha"
            assert job.result["database"] == connection.settings_dict["NAME"]
            assert job.result["echo"] == "from-test"
            with schema_context("bravo"):
                assert not Job.objects.filter(pk=job_id).exists()
            detail = client.get(f"/api/v1/jobs/{job_id}/").json()
            assert detail["status"] == "succeeded"
        finally:
            with schema_context(tenant_a.schema_name):
                Job.objects.filter(pk=job_id).delete()


@pytest.mark.django_db
def test_unknown_job_kind_is_refused_with_field(tenant_a):
    response = tenant_client(tenant_a).post(
        "/api/v1/jobs/", {"kind": "teleport"}, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "kind"
    assert error["code"] == "unknown_job_kind"
    assert "teleport" in error["message"]


@pytest.mark.django_db
def test_missing_kind_is_refused_with_field(tenant_a):
    response = tenant_client(tenant_a).post("/api/v1/jobs/", {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "kind", "code": "required", "message": "This field is required."}
    ]


@pytest.mark.django_db
def test_beat_fan_out_reaches_only_working_tenants(tenant_a, tenant_b, monkeypatch):
    from tenants.jobs import tasks

    assert "purge-finished-jobs" in settings.CELERY_BEAT_SCHEDULE
    seen: list[str] = []
    monkeypatch.setattr(
        tasks.purge_finished_jobs, "delay", lambda: seen.append(connection.schema_name)
    )
    tenant_b.status = "suspended"
    tenant_b.save(update_fields=["status"])

    count = tasks.purge_finished_jobs_everywhere()

    assert seen == ["alpha"]
    assert count == 1
