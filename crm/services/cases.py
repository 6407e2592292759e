"""Writes of service cases (complaints, requests, feedback)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import Case, Guest, Property, RecordChange, Reservation
from crm.models.cases import CASE_TRANSITIONS
from crm.services.access import written
from crm.services.audit import changes_record
from crm.services.custom import custom_clean
from tenants.access.principal import Principal
from tenants.errors import Conflict

CASE_FIELDS = (
    "subject",
    "description",
    "kind",
    "category",
    "priority",
    "status",
    "channel",
    "guest",
    "reservation",
    "property",
    "owner",
    "deadline",
)
AUDITED = (*CASE_FIELDS, "escalated_at", "resolved_at", "custom")
# The statuses a case may be created with; every later move follows CASE_TRANSITIONS.
INITIAL_STATUSES = (Case.Status.NEW, Case.Status.OPEN)


def _values(case: Case) -> dict:
    out = {}
    for name in AUDITED:
        value = getattr(case, name)
        out[name] = value.pk if hasattr(value, "pk") else value
    return out


def _validate(case: Case) -> None:
    case.subject = (case.subject or "").strip()
    if not case.subject:
        raise ValidationError({"subject": "A case needs a subject."})
    for name, choices in (
        ("kind", Case.Kind.values),
        ("category", Case.Category.values),
        ("priority", Case.Priority.values),
        ("status", Case.Status.values),
    ):
        if getattr(case, name) not in choices:
            raise ValidationError(
                {name: f"{getattr(case, name)!r} is not one of {', '.join(choices)}."}
            )
    if case.reservation is not None and case.guest is None:
        case.guest = case.reservation.guest
    if case.reservation is not None and case.property is None:
        case.property = case.reservation.property
    case.full_clean(exclude=["custom", "guest", "reservation", "property", "owner"])


def _stamp(case: Case, old_status: str | None) -> None:
    if case.status == Case.Status.ESCALATED and old_status != Case.Status.ESCALATED:
        case.escalated_at = timezone.now()
    if case.status in (Case.Status.RESOLVED, Case.Status.CLOSED) and not case.resolved_at:
        case.resolved_at = timezone.now()
    if case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
        case.resolved_at = None


def case_transition_check(*, old_status: str, status: str) -> None:
    """Refuse a move the status flow does not allow (409 ``transition_not_allowed``
    naming ``status``); staying where it is always passes."""
    if status == old_status or status in CASE_TRANSITIONS.get(old_status, ()):
        return
    allowed = ", ".join(CASE_TRANSITIONS.get(old_status, ())) or "none"
    raise Conflict(
        f"A case cannot go from {old_status} to {status} (allowed: {allowed}).",
        code="transition_not_allowed",
        field="status",
    )


@transaction.atomic
def case_create(
    *,
    subject: str,
    kind: str = Case.Kind.REQUEST,
    category: str = Case.Category.OTHER,
    priority: str = Case.Priority.NORMAL,
    status: str = Case.Status.OPEN,
    description: str = "",
    channel: str = "",
    guest: Guest | None = None,
    reservation: Reservation | None = None,
    property: Property | None = None,
    owner=None,
    deadline: datetime | None = None,
    custom: dict | None = None,
    actor: Principal,
) -> Case:
    actor.require("case", "create")
    if status not in INITIAL_STATUSES:
        raise ValidationError(
            {"status": f"A case starts as one of {', '.join(INITIAL_STATUSES)}, not {status!r}."}
        )
    given = {
        "subject": subject,
        "description": description,
        "channel": channel,
        "guest": guest,
        "reservation": reservation,
        "property": property,
        "owner": owner,
        "deadline": deadline,
    }
    actor.require_editable(
        "case", written([k for k, v in given.items() if v not in (None, "")], custom)
    )
    case = Case(
        subject=subject,
        kind=kind,
        category=category,
        priority=priority,
        status=status,
        description=description,
        channel=channel,
        guest=guest,
        reservation=reservation,
        property=property,
        owner=owner,
        deadline=deadline,
    )
    case.custom = custom_clean(object_api_name="case", values=custom or {})
    _validate(case)
    # After validation, which takes the hotel from the reservation when none is given.
    actor.require_property(case.property_id)
    _stamp(case, None)
    case.save()
    changes_record(
        object_api_name="case",
        record_id=case.pk,
        old={},
        new=_values(case),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    # Subscribers of the creation may have written to the case (a module's assignment
    # rules give it an owner): the caller gets the case as stored.
    case.refresh_from_db()
    return case


@transaction.atomic
def case_update(*, case: Case, custom: dict | None = None, actor: Principal, **fields) -> Case:
    actor.require("case", "edit")
    unknown = sorted(set(fields) - set(CASE_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a case field you can set." for n in unknown})
    actor.require_editable("case", written(fields, custom))
    case = Case.objects.select_for_update().get(pk=case.pk)
    actor.require_property(case.property_id)
    old = _values(case)
    for name, value in fields.items():
        setattr(case, name, value)
    if custom is not None:
        case.custom = custom_clean(
            object_api_name="case",
            values=custom,
            existing=case.custom,
            partial=True,
            record_id=case.pk,
        )
    _validate(case)
    actor.require_property(case.property_id)
    case_transition_check(old_status=old["status"], status=case.status)
    _stamp(case, old["status"])
    case.save()
    changes_record(
        object_api_name="case",
        record_id=case.pk,
        old=old,
        new=_values(case),
        user_id=actor.user_id,
    )
    return case
