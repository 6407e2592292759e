"""One timeline for any record: its activities, newest first."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Activity, RecordChange
from tenants.access.principal import Principal
from tenants.errors import NotFound


def timeline_for(*, object_api_name: str, record_id: int | str) -> QuerySet[Activity]:
    return Activity.objects.filter(
        object_api_name=object_api_name, record_id=str(record_id)
    ).select_related("assignee", "created_by")


def tasks_open_for(*, assignee) -> QuerySet[Activity]:
    return Activity.objects.filter(
        kind=Activity.Kind.TASK, assignee=assignee, completed_at__isnull=True
    ).order_by("due_at", "pk")


def record_changes_for(*, object_api_name: str, record_id: int | str) -> QuerySet[RecordChange]:
    return RecordChange.objects.filter(object_api_name=object_api_name, record_id=str(record_id))


def activities_for(
    *, actor: Principal, object_api_name: str, record_id: int | str, kind: str | None = None
) -> QuerySet[Activity]:
    """The timeline of a record the principal may view (object right, hotel scope); a
    record out of reach is the same 404 as one that does not exist."""
    from metadata.selectors.records import record_for

    record = record_for(
        actor=actor, object_api_name=object_api_name, record_id=record_id, action="view"
    )
    activities = timeline_for(object_api_name=object_api_name, record_id=record.pk)
    if kind:
        activities = activities.filter(kind=kind)
    return activities


def activity_for(*, actor: Principal, activity_id: int | str) -> Activity:
    """One activity, if the principal may view the record it is logged on; otherwise a
    404 alike for "not there" and "not yours"."""
    from metadata.selectors.records import record_for

    try:
        pk = int(str(activity_id))
    except ValueError:
        pk = 0
    activity = (
        Activity.objects.select_related("assignee", "created_by").filter(pk=pk).first()
        if 0 < pk < 2**63
        else None
    )
    if activity is None:
        raise NotFound(f"No activity with id {activity_id}.", field="id")
    try:
        record_for(
            actor=actor,
            object_api_name=activity.object_api_name,
            record_id=activity.record_id,
            action="view",
        )
    except NotFound:
        raise NotFound(f"No activity with id {activity_id}.", field="id") from None
    return activity
