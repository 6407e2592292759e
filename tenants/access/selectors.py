from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from tenants.access.models import AuditEvent, Role, TemporaryGrant


def audit_events(
    *,
    actor_id: int | None = None,
    action: str | None = None,
    object_api_name: str | None = None,
    record_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The audit log, newest first, narrowed by any of the filters (``until`` is
    exclusive)."""
    qs = AuditEvent.objects.select_related("actor")
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action=action)
    if object_api_name:
        qs = qs.filter(object_api_name=object_api_name)
    if record_id:
        qs = qs.filter(record_id=record_id)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("-occurred_at", "-pk")


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related("object_permissions", "field_permissions")


def administrators():
    """Active users holding a role that grants everything (the one administrator rule),
    first created first."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, role_assignments__role__grants_everything=True)
        .distinct()
        .order_by("pk")
    )


def temporary_grants_list(*, include_ended: bool = False) -> QuerySet[TemporaryGrant]:
    """Grants that count now or will (soonest end first), or with ``include_ended`` also
    the revoked and expired ones still kept (newest first)."""
    qs = TemporaryGrant.objects.select_related("user", "granted_by", "revoked_by")
    if include_ended:
        return qs.order_by("-created", "-pk")
    return qs.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "expires_at", "pk"
    )


def role_by_key(key: str) -> Role | None:
    return role_list().filter(key=key).first()
