"""One timeline for any record: its activities, newest first."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Activity, RecordChange


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
