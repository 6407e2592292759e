"""Per-tenant throughput cap: a token bucket in the tenant's own schema (one row, taken
under a row lock), shared by every worker process. A run that finds no token is sent
back to the queue with a countdown, so the workers move on to other tenants' work.

Rate and burst: the plan's ``workflow_runs_per_second`` limit if billing sets one, else
ATRIUM_WORKFLOW_RATE_PER_SECOND; the bucket holds ATRIUM_WORKFLOW_BURST tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from metadata.models import WorkflowThrottle
from tenants.context import current_tenant


def _rate() -> float:
    from tenants.entitlements import tenant_limit

    limit = tenant_limit(current_tenant(), "workflow_runs_per_second")
    return float(limit if limit else settings.ATRIUM_WORKFLOW_RATE_PER_SECOND)


def throttle_take() -> float:
    """Take one token: 0 when the run may go now, else the seconds until a token."""
    rate = _rate()
    burst = float(max(1, settings.ATRIUM_WORKFLOW_BURST))
    now = timezone.now()
    with transaction.atomic():
        bucket = WorkflowThrottle.objects.select_for_update().filter(pk=1).first()
        if bucket is None:
            bucket, _ = WorkflowThrottle.objects.get_or_create(
                pk=1, defaults={"tokens": burst, "refilled_at": now}
            )
            bucket = WorkflowThrottle.objects.select_for_update().get(pk=1)
        elapsed = max(0.0, (now - bucket.refilled_at).total_seconds())
        tokens = min(burst, bucket.tokens + elapsed * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        bucket.tokens = tokens
        bucket.refilled_at = now
        bucket.save(update_fields=["tokens", "refilled_at"])
    return wait
