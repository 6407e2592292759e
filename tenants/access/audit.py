"""The audit log's writer: one row per action worth answering for (who, what, where from).

It sits below the policy (which audits reads of sensitive fields) and the services
(which audit changes), so neither has to reach up into the other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from django.utils import timezone

from tenants.access.context import origin_get
from tenants.access.models import AuditEvent


@runtime_checkable
class Acting(Protocol):
    """What the log needs of a Principal (which sits above this module)."""

    is_system: bool
    label: str
    user: Any


def audit_log(
    *,
    action: str,
    actor: Any = None,
    object_api_name: str = "",
    record_id: str = "",
    fields: Iterable[str] = (),
    record_count: int | None = None,
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Write one audit row. IP and user agent default to the current request's. The
    actor is a user or a Principal (a system principal is named in the details)."""
    if action not in AuditEvent.Action.values:
        raise ValueError(f"{action!r} is not an audit action")
    if isinstance(actor, Acting):
        if actor.is_system:
            details = {**(details or {}), "system": actor.label}
        actor = actor.user
    origin = origin_get()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor if authenticated else None,
        actor_email=getattr(actor, "email", "") if authenticated else "",
        action=action,
        object_api_name=object_api_name,
        record_id=str(record_id or "")[:100],
        record_count=record_count,
        fields=list(fields),
        ip_address=ip_address if ip_address is not None else origin.ip_address,
        user_agent=(user_agent if user_agent is not None else origin.user_agent)[:400],
        details=details or {},
    )
