"""Date-relative and cron triggers, checked by beat every few minutes in each active
tenant (``workflow_schedule_everywhere`` spreads the tenants over a minute).

A date-relative trigger fires for a record when ``field + offset`` (at the local time
``at`` for days) falls in the window (now - lookback, now], in the tenant's time zone;
yearly triggers fire on the field's month and day every year (29 February on the 28th in
other years). A cron trigger fires at each matching minute in the window, once per record
that meets the conditions (or once with no record). The window overlaps the previous
check, and the run's unique occurrence key makes every occurrence run at most once,
however often the scan repeats."""

from __future__ import annotations

import calendar
import zlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from metadata.definitions import object_snapshot
from metadata.models import Workflow, WorkflowRun, WorkflowVersion
from metadata.selectors.records import custom_filter
from metadata.workflows.conditions import conditions_queryset
from metadata.workflows.cron import cron_fire_times
from metadata.workflows.definition import field_kind
from metadata.workflows.dispatch import task_send
from metadata.workflows.engine import run_create
from tenants.context import current_schema, current_tenant


def tenant_zone() -> ZoneInfo:
    tenant = current_tenant()
    name = getattr(tenant, "timezone", None)
    if not name:
        from tenants.models import Tenant

        name = (
            Tenant.objects.filter(schema_name=current_schema())
            .values_list("timezone", flat=True)
            .first()
        )
    return ZoneInfo(name or "UTC")


def _lookback() -> timedelta:
    return timedelta(minutes=settings.ATRIUM_WORKFLOW_LOOKBACK_MINUTES)


def _bare(name: str) -> str:
    return name[len("custom.") :] if name.startswith("custom.") else name


def _is_custom(object_api_name: str, name: str) -> bool:
    return _bare(name) in object_snapshot(object_api_name).active_fields


def _version(workflow: Workflow) -> WorkflowVersion:
    version = workflow.current_version
    if version is None:
        raise ValueError(f"workflow {workflow.key} has no version")
    return version


def _candidates(workflow: Workflow):
    return conditions_queryset(
        object_api_name=workflow.object_api_name, tree=_version(workflow).conditions
    )


def _values(queryset, object_api_name: str, name: str) -> list[tuple[int, object]]:
    if _is_custom(object_api_name, name):
        column = object_snapshot(object_api_name).values_column
        return list(queryset.values_list("pk", f"{column}__{_bare(name)}"))
    return list(queryset.values_list("pk", name))


def _date_in(queryset, object_api_name: str, name: str, days: list[date], kind: str, zone):
    if kind == "datetime":  # the field's local date is one of the days
        condition = Q()
        for day in days:
            start = datetime.combine(day, time.min, tzinfo=zone)
            condition |= Q(**{f"{name}__gte": start, f"{name}__lt": start + timedelta(days=1)})
        if _is_custom(object_api_name, name):
            starts = [datetime.combine(d, time.min, tzinfo=zone) for d in days]
            out = queryset.none()
            for start in starts:
                out = out | custom_filter(
                    queryset,
                    object_api_name=object_api_name,
                    filters=[
                        (_bare(name), "gte", start.isoformat()),
                        (_bare(name), "lt", (start + timedelta(days=1)).isoformat()),
                    ],
                )
            return out
        return queryset.filter(condition)
    return custom_filter(
        queryset,
        object_api_name=object_api_name,
        filters=[(_bare(name), "in", [d.isoformat() for d in days])],
    )


def date_trigger_scan(workflow: Workflow, *, now: datetime | None = None) -> list[WorkflowRun]:
    trigger = _version(workflow).trigger
    now = now or timezone.now()
    zone = tenant_zone()
    name, offset, unit = trigger["field"], trigger["offset"], trigger["unit"]
    kind = field_kind(workflow.object_api_name, name) or "date"
    queryset = _candidates(workflow)
    start = now - _lookback()
    found: list[tuple[str, str]] = []  # (record id, occurrence key)
    if unit == "days":
        hour, minute = (int(p) for p in trigger["at"].split(":"))
        local_today = now.astimezone(zone).date()
        fire_days = [
            local_today - timedelta(days=k)
            for k in range(0, _lookback().days + 2)
            if start
            < datetime.combine(local_today - timedelta(days=k), time(hour, minute), tzinfo=zone)
            <= now
        ]
        if trigger.get("yearly"):
            for day in fire_days:
                target = day - timedelta(days=offset)
                wanted = [(target.month, target.day)]
                if target.month == 2 and target.day == 28 and not calendar.isleap(target.year):
                    wanted.append((2, 29))
                condition = Q()
                for month, dom in wanted:
                    if _is_custom(workflow.object_api_name, name):
                        condition |= Q(
                            pk__in=custom_filter(
                                queryset,
                                object_api_name=workflow.object_api_name,
                                filters=[(_bare(name), "contains", f"-{month:02d}-{dom:02d}")],
                            ).values("pk")
                        )
                    else:
                        condition |= Q(**{f"{name}__month": month, f"{name}__day": dom})
                for pk in queryset.filter(condition).values_list("pk", flat=True):
                    found.append((str(pk), f"yearly:{day.year}"))
        else:
            targets = {day - timedelta(days=offset): day for day in fire_days}
            if targets:
                matched = _date_in(
                    queryset, workflow.object_api_name, name, list(targets), kind, zone
                )
                for pk, value in _values(matched, workflow.object_api_name, name):
                    value_day = _as_date(value, zone)
                    found.append((str(pk), f"date:{value_day.isoformat() if value_day else value}"))
    else:  # hours: field + offset in (start, now]
        shift = timedelta(hours=offset)
        low, high = start - shift, now - shift
        if kind == "date":
            low_d, high_d = low.astimezone(zone).date(), high.astimezone(zone).date()
            days = [low_d + timedelta(days=i) for i in range((high_d - low_d).days + 1)]
            matched = _date_in(queryset, workflow.object_api_name, name, days, kind, zone)
            for pk, value in _values(matched, workflow.object_api_name, name):
                value_day = _as_date(value, zone)
                if value_day is None:
                    continue
                moment = datetime.combine(value_day, time.min, tzinfo=zone) + shift
                if start < moment <= now:
                    found.append((str(pk), f"at:{moment.isoformat()}"))
        elif _is_custom(workflow.object_api_name, name):
            matched = custom_filter(
                queryset,
                object_api_name=workflow.object_api_name,
                filters=[
                    (_bare(name), "gt", low.isoformat()),
                    (_bare(name), "lte", high.isoformat()),
                ],
            )
            for pk, value in _values(matched, workflow.object_api_name, name):
                found.append((str(pk), f"at:{value}"))
        else:
            matched = queryset.filter(**{f"{name}__gt": low, f"{name}__lte": high})
            for pk, value in _values(matched, workflow.object_api_name, name):
                shown = value.isoformat() if isinstance(value, datetime) else value
                found.append((str(pk), f"at:{shown}"))
    return _runs(workflow, "date_relative", found)


def _as_date(value, zone) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(zone).date() if parsed.tzinfo else parsed.date()
    return None


def cron_trigger_scan(workflow: Workflow, *, now: datetime | None = None) -> list[WorkflowRun]:
    now = now or timezone.now()
    zone = tenant_zone()
    local_now = now.astimezone(zone)
    fire_times = cron_fire_times(
        _version(workflow).trigger["cron"], start=local_now - _lookback(), end=local_now
    )
    found: list[tuple[str, str]] = []
    for moment in fire_times:
        key = f"cron:{moment.isoformat()}"
        if not workflow.object_api_name:
            found.append(("", key))
            continue
        for pk in _candidates(workflow).values_list("pk", flat=True):
            found.append((str(pk), key))
    return _runs(workflow, "schedule", found)


def _runs(workflow: Workflow, trigger_type: str, found: list[tuple[str, str]]) -> list[WorkflowRun]:
    runs = []
    # The window overlaps earlier checks: skip what already ran, without a failed insert
    # per record per check (the constraint still guards against concurrent checks).
    done = set(
        WorkflowRun.objects.filter(
            version=_version(workflow), occurrence_key__in={k for _, k in found}
        ).values_list("record_id", "occurrence_key")
    )
    with transaction.atomic():
        for record_id, key in found:
            if (record_id, key) in done:
                continue
            run = run_create(
                workflow=workflow,
                version=_version(workflow),
                object_api_name=workflow.object_api_name,
                record_id=record_id,
                occurrence_key=key,
                trigger_type=trigger_type,
            )
            if run is not None:
                runs.append(run)
    return runs


def waiting_runs_resume(*, now: datetime | None = None) -> int:
    """Queue runs whose delay is over (their own delayed message normally does it; this
    catches any message lost meanwhile)."""
    now = now or timezone.now()
    ids = list(
        WorkflowRun.objects.filter(
            status=WorkflowRun.Status.WAITING, resume_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    for run_id in ids:
        task_send("workflow_run_execute", run_id)
    return len(ids)


def workflows_schedule(*, now: datetime | None = None) -> dict[str, int]:
    """One tenant's scheduled triggers: queue every new occurrence, resume due waits."""
    created = 0
    for workflow in Workflow.objects.filter(
        enabled=True, trigger_type__in=["date_relative", "schedule"]
    ).select_related("current_version"):
        if workflow.current_version is None:
            continue
        scan = date_trigger_scan if workflow.trigger_type == "date_relative" else cron_trigger_scan
        created += len(scan(workflow, now=now))
    return {"runs": created, "resumed": waiting_runs_resume(now=now)}


def spread_seconds(schema_name: str) -> int:
    """Where in the spread window this tenant's check starts: stable per tenant, so the
    tenants' checks do not all land on the same second."""
    window = max(1, settings.ATRIUM_WORKFLOW_SPREAD_SECONDS)
    return zlib.crc32(schema_name.encode()) % window
