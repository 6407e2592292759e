"""Reads of workflows and their run log."""

from __future__ import annotations

from django.db.models import QuerySet

from metadata.models import Workflow, WorkflowRun
from tenants.access.principal import Principal
from tenants.errors import NotFound


def workflows_list() -> QuerySet[Workflow]:
    return Workflow.objects.select_related("current_version").order_by("key")


def workflow_get(*, ref: str) -> Workflow:
    """By id or key."""
    queryset = workflows_list()
    found = queryset.filter(pk=int(ref)).first() if str(ref).isdigit() else None
    found = found or queryset.filter(key=str(ref)).first()
    if found is None:
        raise NotFound(f"There is no workflow {ref!r}.", field="workflow")
    return found


def workflow_runs(
    *, workflow: Workflow | None = None, status: str = "", record_id: str = "", limit: int = 50
) -> list[WorkflowRun]:
    queryset = WorkflowRun.objects.select_related("version", "workflow").prefetch_related("steps")
    if workflow is not None:
        queryset = queryset.filter(workflow=workflow)
    if status:
        queryset = queryset.filter(status=status)
    if record_id:
        queryset = queryset.filter(record_id=str(record_id))
    return list(queryset.order_by("-created", "-pk")[:limit])


def run_get(*, run_id: int) -> WorkflowRun:
    run = (
        WorkflowRun.objects.select_related("version", "workflow")
        .prefetch_related("steps")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound(f"There is no workflow run {run_id}.", field="run")
    return run


def run_as_dict(run: WorkflowRun, *, actor: Principal) -> dict:
    """The run as the reader may see it: rendered texts only if they may read every
    field the version's templates name."""
    from metadata.workflows.masking import detail_masked, reader_may_see_texts

    visible = reader_may_see_texts(actor, run.version.actions, run.object_api_name)
    return {
        "id": run.pk,
        "workflow": run.workflow.key,
        "version": run.version.number,
        "object": run.object_api_name,
        "record_id": run.record_id,
        "trigger": run.trigger_type,
        "occurrence": run.occurrence_key,
        "status": run.status,
        "error": run.error,
        "attempts": run.attempts,
        "created": run.created,
        "started": run.started,
        "finished": run.finished,
        "resume_at": run.resume_at,
        "steps": [
            {
                "index": s.index,
                "action": s.action,
                "status": s.status,
                "detail": detail_masked(s.detail, visible=visible),
                "error": s.error,
                "at": s.at,
            }
            for s in run.steps.all()
        ],
    }
