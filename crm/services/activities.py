"""Notes, tasks, calls and e-mails logged against any record."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Activity, RecordChange
from crm.objects import record_get
from crm.services.audit import changes_record, record_values
from tenants.access.principal import Principal

ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "direction",
    "occurred_at",
    "due_at",
    "reminder_at",
    "duration_seconds",
    "assignee",
)


def _activity_validate(activity: Activity) -> None:
    if activity.kind != Activity.Kind.TASK and (activity.due_at or activity.reminder_at):
        raise ValidationError({"due_at": _("Only tasks have a due date or a reminder.")})
    if activity.kind == Activity.Kind.TASK and not activity.subject:
        raise ValidationError({"subject": _("A task needs a subject.")})
    if activity.reminder_at and activity.due_at and activity.reminder_at > activity.due_at:
        raise ValidationError({"reminder_at": _("The reminder must come before the due date.")})
    if activity.kind not in (Activity.Kind.CALL, Activity.Kind.EMAIL) and activity.direction:
        raise ValidationError({"direction": _("Only calls and e-mails have a direction.")})
    if activity.assignee is not None and not activity.assignee.is_active:
        raise ValidationError({"assignee": _("Tasks go to active staff accounts.")})
    activity.full_clean(exclude=["assignee", "created_by"])


@transaction.atomic
def activity_create(
    *,
    object_api_name: str,
    record_id: int | str,
    kind: str,
    subject: str = "",
    body: str = "",
    direction: str = "",
    occurred_at: datetime | None = None,
    due_at: datetime | None = None,
    reminder_at: datetime | None = None,
    duration_seconds: int | None = None,
    assignee=None,
    actor: Principal,
) -> Activity:
    """Log a note, call, e-mail or task on a record. Changing a record's history needs
    the edit right on its object and the record within the principal's hotels."""
    actor.require(object_api_name, "edit")
    if not actor.is_system:
        # A record outside the principal's hotels is the same 404 as a missing one.
        from metadata.selectors.records import record_for

        record_for(actor=actor, object_api_name=object_api_name, record_id=record_id, action="edit")
    record = record_get(object_api_name=object_api_name, record_id=record_id)
    actor.require_record_in_scope(object_api_name, type(record)._default_manager.all(), record.pk)
    activity = Activity(
        object_api_name=object_api_name,
        record_id=str(record.pk),
        kind=kind,
        subject=subject,
        body=body,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        due_at=due_at,
        reminder_at=reminder_at,
        duration_seconds=duration_seconds,
        assignee=assignee,
        created_by=actor.user,
    )
    _activity_validate(activity)
    activity.save()
    changes_record(
        object_api_name="activity",
        record_id=activity.pk,
        old={},
        new=record_values(activity, ["kind", "object_api_name", "record_id", "subject"]),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return activity


@transaction.atomic
def task_complete(*, activity: Activity, actor: Principal, at: datetime | None = None) -> Activity:
    """Tick a task off: its assignee may, else the edit right on the task's record
    (within the principal's hotels). Completing a completed task changes nothing."""
    if activity.assignee_id is None or activity.assignee_id != actor.user_id:
        actor.require(activity.object_api_name, "edit")
        record = record_get(object_api_name=activity.object_api_name, record_id=activity.record_id)
        actor.require_record_in_scope(
            activity.object_api_name, type(record)._default_manager.all(), record.pk
        )
    if activity.kind != Activity.Kind.TASK:
        raise ValidationError({"kind": _("Only tasks can be completed.")})
    if activity.completed_at is not None:
        return activity
    old = {"completed_at": activity.completed_at}
    activity.completed_at = at or timezone.now()
    activity.save(update_fields=["completed_at"])
    changes_record(
        object_api_name="activity",
        record_id=activity.pk,
        old=old,
        new={"completed_at": activity.completed_at},
        user_id=actor.user_id,
    )
    return activity
