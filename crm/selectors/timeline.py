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


# Fields of the trail that stand for a list of the record (``consent:email:marketing``).
_TRAIL_FIELDS = {"consent": "consents"}


def record_history(
    *, actor: Principal, object_api_name: str, record_id: int | str, limit: int = 50
) -> list[dict]:
    """The audit trail of a record the principal may view, newest first, as rows of
    ``{"change", "field", "old", "new", "values_shown", "user_email"}``: changes of fields
    the principal cannot read are left out, and those of sensitive fields are listed
    without their values (reading them is for the masked record views, which audit it)."""
    from django.contrib.auth import get_user_model

    from metadata.selectors.records import record_for
    from tenants.access import registry

    record = record_for(
        actor=actor, object_api_name=object_api_name, record_id=record_id, action="view"
    )
    changes = list(record_changes_for(object_api_name=object_api_name, record_id=record.pk)[:limit])
    spec = registry.object_spec(object_api_name)

    def root(name: str) -> str:
        head = name.split(":", 1)[0]
        return _TRAIL_FIELDS.get(head, head)

    names = {root(c.field) for c in changes if c.field}
    for change in changes:
        if not change.field and isinstance(change.new, dict):
            names |= set(change.new)
    visible = actor.fields_visible(object_api_name, fields=sorted(names))
    emails = dict(
        get_user_model()
        .objects.filter(pk__in={c.user_id for c in changes if c.user_id})
        .values_list("pk", "email")
    )
    rows = []
    for change in changes:
        new = change.new
        if change.field:
            name = root(change.field)
            if name not in visible:
                continue
            shown = not spec.is_sensitive(name)
        else:
            shown = True
            if isinstance(new, dict):
                new = {k: v for k, v in new.items() if k in visible and not spec.is_sensitive(k)}
        rows.append(
            {
                "change": change,
                "field": change.field,
                "old": change.old if shown else None,
                "new": new if shown else None,
                "values_shown": shown,
                "user_email": emails.get(change.user_id or 0, ""),
            }
        )
    return rows


def tasks_open_mine(*, actor: Principal, limit: int = 100) -> list[Activity]:
    """The principal's own open tasks (earliest due first) on records they may still
    view: a task on a record out of their rights or hotels is not shown, even though it
    names them."""
    from metadata.selectors.records import records_queryset

    if actor.user is None:
        return []
    out: list[Activity] = []
    viewable: dict[str, bool] = {}
    for task in tasks_open_for(assignee=actor.user).select_related("assignee", "created_by"):
        name = task.object_api_name
        if name not in viewable:
            viewable[name] = actor.can(name, "view")
        if not viewable[name]:
            continue
        try:
            queryset = records_queryset(object_api_name=name)
            if not actor.scope(name, queryset).filter(pk=int(task.record_id)).exists():
                continue
        except (ValueError, LookupError):
            continue
        out.append(task)
        if len(out) == limit:
            break
    return out
