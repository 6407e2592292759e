"""Reads of background jobs: staff see the jobs they started, administrators all."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from tenants.access.principal import Principal
from tenants.jobs.models import Job


def jobs_for(*, actor: Principal) -> QuerySet[Job]:
    jobs = Job.objects.order_by("-created")
    if actor.is_admin:
        return jobs
    if actor.user_id is None:
        return jobs.none()
    return jobs.filter(created_by_id=actor.user_id)


def jobs_recent(*, actor: Principal, limit: int = 5) -> QuerySet[Job]:
    return jobs_for(actor=actor)[:limit]


def job_get(*, actor: Principal, job_id: str) -> Job | None:
    """The job with this id if the principal may see it, else None (also for a
    malformed id): "not yours" and "not there" look the same."""
    try:
        key = uuid.UUID(str(job_id))
    except ValueError:
        return None
    return jobs_for(actor=actor).filter(pk=key).first()
