"""How the service desk hears of cases and tells others of breaches.

* crm's record events of cases (every write through crm's case services, API, bulk and
  workflows alike) start and move the case's timers, inside the writer's transaction
  and in a savepoint: a fault in the timers never undoes the case write (the sweep
  starts timers that are missing).
* A guest merged into another takes its survey invitations and answers along.
* A breach goes to the webhooks subscribed to ``case.sla_breached`` (subscribers who may
  view the case), starts the workflows triggered by ``case_sla_breached`` (one run per
  case and timer), and reaches the in-process handlers of ``sla_breached_subscribe``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from metadata import events

log = logging.getLogger(__name__)

EVENT_TYPE = "case.sla_breached"
WORKFLOW_EVENT = "case_sla_breached"
_breach_handlers: list[Callable[[dict[str, Any]], None]] = []


def webhook_event_types_register() -> None:
    from tenants.integrations.webhooks import webhook_event_types_register as register

    register({EVENT_TYPE: "A case missed its first-response or resolution target"})


def sla_breached_subscribe(handler: Callable[[dict[str, Any]], None]) -> None:
    if handler not in _breach_handlers:
        _breach_handlers.append(handler)


def on_record_event(event: events.RecordEvent) -> None:
    if event.object_api_name == "guest" and event.action == events.MERGED:
        _guest_merged(event)
        return
    if event.object_api_name != "case" or event.action not in (events.CREATED, events.UPDATED):
        return
    from tenants.context import current_schema

    if current_schema() in ("public", settings.TENANT_BASE_SCHEMA):
        return
    from crm.service.apps import module_on

    if not module_on():
        return
    from crm.service.services.sla import sla_case_changed, sla_start

    try:
        with transaction.atomic():
            if event.action == events.CREATED:
                from crm.models import Case

                case = Case.objects.filter(pk=int(event.record_id)).first()
                if case is not None:
                    sla_start(case=case)
            else:
                sla_case_changed(case_id=int(event.record_id), old=event.old, new=event.new)
    except Exception:
        log.exception("service: timers of case %s could not be moved", event.record_id)
    if event.action == events.CREATED and not event.new.get("owner"):
        from crm.service.services.desk import case_auto_assign

        try:
            with transaction.atomic():
                case_auto_assign(case_id=int(event.record_id))
        except Exception:
            log.exception("service: case %s could not be assigned by the rules", event.record_id)


def _guest_merged(event: events.RecordEvent) -> None:
    merge = event.new.get("merge") or {}
    if not merge.get("survivor") or not merge.get("merged"):
        return
    from crm.service.models import Invitation, Response

    survivor, merged = int(merge["survivor"]), int(merge["merged"])
    for invitation in Invitation.objects.filter(guest_id=merged):
        # One invitation per survey and stay: the survivor's own wins a clash.
        clash = Invitation.objects.filter(
            survey_id=invitation.survey_id,
            guest_id=survivor,
            reservation=invitation.reservation,
        ).exists()
        if not clash:
            Invitation.objects.filter(pk=invitation.pk).update(guest_id=survivor)
    Response.objects.filter(guest_id=merged).update(guest_id=survivor)


def sla_breached_announce(*, sla, timer: str, at: datetime) -> None:
    case = sla.case
    data = {
        "object": "case",
        "id": str(case.pk),
        "timer": timer,
        "due_at": at.isoformat(),
        "category": case.category,
        "priority": case.priority,
        "property": case.property_id,
        "owner": case.owner_id,
    }
    from crm.models import RecordChange
    from crm.services.audit import event_record
    from tenants.integrations.webhooks import webhook_event_publish

    event_record(
        object_api_name="case",
        record_id=case.pk,
        action=RecordChange.Action.UPDATE,
        user_id=None,
        field=f"sla_{timer}_breached",
        new=at.isoformat(),
        announce=False,
    )
    webhook_event_publish(event_type=EVENT_TYPE, object_api_name="case", data=data)
    from metadata.workflows.engine import workflow_event_fire

    workflow_event_fire(
        name=WORKFLOW_EVENT,
        object_api_name="case",
        record_id=case.pk,
        occurrence=timer,  # a timer breaches once per case
        data=data,
    )
    for handler in list(_breach_handlers):
        handler(dict(data))
