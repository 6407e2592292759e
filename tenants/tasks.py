"""Platform-wide background work that belongs to no one tenant."""

from __future__ import annotations

from celery import shared_task

from tenants.services.spare_schemas import spare_schemas_fill as fill


@shared_task(name="tenants.tasks.spare_schemas_fill")
def spare_schemas_fill() -> dict[str, int]:
    """Keep TENANT_SPARE_SCHEMAS spare schemas as migrated as the template (after a
    sign-up took one, after a migration made them stale, and from beat)."""
    return fill()
