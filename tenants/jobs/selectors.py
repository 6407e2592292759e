"""Reads of background jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.jobs.models import Job


def jobs_recent(*, limit: int = 5) -> QuerySet[Job]:
    return Job.objects.order_by("-created")[:limit]


def job_get(*, job_id: str) -> Job | None:
    """The job with this id, or None (also for a malformed id)."""
    import uuid

    try:
        return Job.objects.filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None
