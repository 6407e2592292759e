"""The case page of the service desk: the case with its guest's summary, timers, the
e-mails with the guest, internal notes and compensation, and what an agent does with it
(status, priority, owner, waiting on the guest, reply, note, compensation and its
decision, merge into another case). Each action is one POST to one service; a refusal of
input comes back as a message on the page (POST, redirect, GET)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Case
from crm.models.cases import CASE_TRANSITIONS
from metadata.selectors.records import record_for
from saas.ui.errors import errors_by_field
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

GUEST_FIELDS = ("given_name", "surname", "email", "language", "vip_level", "stays", "revenue")


def _case(actor: Principal, case_id: int, action: str = "view") -> Case:
    if case_id > 2**62:
        raise Http404(_("There is no such case."))
    return record_for(actor=actor, object_api_name="case", record_id=case_id, action=action)


def _id(raw: str) -> int | None:
    return int(raw) if raw.isdecimal() and len(raw) < 19 else None


@login_required
def case_page(request, case_id: int):
    from crm.selectors.timeline import activities_for
    from crm.service.models import Compensation
    from crm.service.selectors import (
        case_merged_into,
        case_messages,
        case_sla,
        compensations_list,
    )
    from crm.service.services.desk import case_agents
    from metadata.services.modules import module_enabled

    actor = Principal.from_request(request)
    case = _case(actor, case_id)
    guest: dict[str, Any] | None = None
    if case.guest_id is not None and actor.can("guest", "view"):
        row = {name: getattr(case.guest, name) for name in GUEST_FIELDS}
        guest = {"id": case.guest_id, **actor.mask("guest", row)}
        if guest.get("language"):
            from django.utils.translation import get_language_info

            try:
                guest["language_name"] = get_language_info(guest["language"])["name_local"]
            except KeyError:
                guest["language_name"] = guest["language"]
    can_edit = actor.can("case", "edit")
    sla = case_sla(actor=actor, case=case)
    return render(
        request,
        "service/case.html",
        {
            "case": case,
            "guest": guest,
            "sla": sla,
            "timers": [
                (_("First response due"), sla["first_response"]),
                (_("Resolution due"), sla["resolution"]),
            ],
            "messages_with_guest": list(case_messages(actor=actor, case=case)),
            "notes": list(
                activities_for(actor=actor, object_api_name="case", record_id=case.pk)[:100]
            ),
            "compensations": list(compensations_list(actor=actor, case=case))
            if actor.can("case_compensation", "view")
            else [],
            "merged_into": case_merged_into(case=case),
            "can_edit": can_edit,
            "can_compensate": actor.can("case_compensation", "create"),
            "can_decide": actor.can("case_compensation", "edit"),
            "agents": case_agents(case=case) if can_edit else [],
            # Where the case may go from here (the status flow), its own status first.
            "statuses": [
                (value, label)
                for value, label in Case.Status.choices
                if value == case.status or value in CASE_TRANSITIONS.get(case.status, ())
            ],
            "priorities": Case.Priority.choices,
            # Points only while the loyalty programme is on.
            "kinds": [
                (value, label)
                for value, label in Compensation.Kind.choices
                if value != Compensation.Kind.POINTS or module_enabled("loyalty")
            ],
            "currency": case.property.currency if case.property is not None else "",
        },
    )


def _act(request, case: Case, call: Callable[[], object], done: str):
    try:
        call()
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect("service_case", case_id=case.pk)


@login_required
@require_POST
def case_action(request, case_id: int):
    """``action``: update, assign, wait, resume, reply, note, compensate, approve, reject,
    merge."""
    from crm.service.selectors import compensation_get
    from crm.service.services import desk
    from crm.service.services.messages import case_reply_send
    from crm.service.services.sla import case_sla_pause, case_sla_resume
    from crm.services.activities import activity_create
    from crm.services.cases import case_update

    actor = Principal.from_request(request)
    post = request.POST
    if any("\x00" in value for values in post.lists() for value in values[1]):
        case = _case(actor, case_id)
        messages.error(request, _("Text cannot contain NUL characters."))
        return redirect("service_case", case_id=case.pk)
    action = post.get("action", "")
    case = _case(actor, case_id, action="view" if action in ("compensate",) else "edit")

    def update():
        values = {}
        if post.get("status") in Case.Status.values:
            values["status"] = post["status"]
        if post.get("priority") in Case.Priority.values:
            values["priority"] = post["priority"]
        if not values:
            raise ValidationError({"status": _("Pick a status or a priority.")})
        case_update(case=case, actor=actor, **values)

    def compensation():
        found = _id(post.get("compensation", ""))
        if found is None:
            raise Http404(_("There is no such compensation."))
        return compensation_get(actor=actor, compensation_id=found)

    def merge():
        into = _id(post.get("into", ""))
        if into is None:
            raise ValidationError({"into": _("Give the number of the case to merge into.")})
        desk.case_merge(duplicate=case, primary=_case(actor, into, "edit"), actor=actor)

    def compensate():
        kind = post.get("kind", "")
        raw_points = post.get("points", "").strip()
        desk.compensation_request(
            case=case,
            kind=kind,
            amount=post.get("amount", "").strip() or None,
            points=(int(raw_points) if raw_points.isdecimal() and len(raw_points) < 10 else None)
            if kind == "points"
            else None,
            note=post.get("note", ""),
            actor=actor,
        )

    owner = post.get("owner", "")
    calls: dict[str, tuple[Callable[[], object], str]] = {
        "update": (update, _("The case is updated.")),
        "assign": (
            lambda: desk.case_assign(case=case, owner_id=_id(owner), actor=actor),
            _("The case has a new owner.") if owner else _("Nobody owns the case now."),
        ),
        "wait": (lambda: case_sla_pause(case=case, actor=actor), _("Waiting on the guest.")),
        "resume": (lambda: case_sla_resume(case=case, actor=actor), _("The clock runs again.")),
        "reply": (
            lambda: case_reply_send(
                case=case, body=post.get("body", ""), subject=post.get("subject", ""), actor=actor
            ),
            _("The reply is on its way to the guest."),
        ),
        "note": (
            lambda: activity_create(
                object_api_name="case",
                record_id=case.pk,
                kind="note",
                body=post.get("body", "").strip()[:10_000],
                actor=actor,
            ),
            _("The note is kept on the case."),
        ),
        "compensate": (compensate, _("The compensation waits for approval.")),
        "approve": (
            lambda: desk.compensation_decide(
                compensation=compensation(), approve=True, note=post.get("note", ""), actor=actor
            ),
            _("Compensation approved."),
        ),
        "reject": (
            lambda: desk.compensation_decide(
                compensation=compensation(), approve=False, note=post.get("note", ""), actor=actor
            ),
            _("Compensation rejected."),
        ),
        "merge": (merge, _("The case was merged.")),
    }
    if action not in calls:
        messages.error(request, _("That is not something a case can do."))
        return redirect("service_case", case_id=case.pk)
    call, done = calls[action]
    return _act(request, case, call, done)


@login_required
def case_new(request):
    """A new case from the desk (a phone call, a walk-in): subject, what it is, the hotel
    and, when known, the guest."""
    from crm.selectors.operations import properties_list
    from crm.services.cases import case_create

    actor = Principal.from_request(request)
    actor.require("case", "create")
    values = request.POST if request.method == "POST" else request.GET
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        from crm.models import Property

        hotel = _id(values.get("property", ""))
        guest_id = _id(values.get("guest", ""))
        try:
            if "\x00" in "".join(values.get(n, "") for n in ("subject", "description")):
                raise ValidationError({"subject": _("Text cannot contain NUL characters.")})
            prop = Property.objects.filter(pk=hotel).first() if hotel else None
            if values.get("property") and prop is None:
                raise ValidationError({"property": _("Pick a hotel from the list.")})
            guest = None
            if values.get("guest"):
                if guest_id is None or not actor.can("guest", "view"):
                    raise ValidationError({"guest": _("Give a guest's number.")})
                guest = record_for(
                    actor=actor, object_api_name="guest", record_id=guest_id, action="view"
                )
            case = case_create(
                subject=values.get("subject", ""),
                description=values.get("description", ""),
                kind=values.get("kind", Case.Kind.COMPLAINT),
                category=values.get("category", Case.Category.OTHER),
                priority=values.get("priority", Case.Priority.NORMAL),
                channel=values.get("channel", "")[:20],
                property=prop,
                guest=guest,
                actor=actor,
            )
        except (ValidationError, ApplicationError) as exc:
            if isinstance(exc, ApplicationError) and exc.status_code == 403:
                raise
            errors = errors_by_field(exc)
        else:
            messages.success(request, _("The case is open."))
            return redirect("service_case", case_id=case.pk)
    return render(
        request,
        "service/case_new.html",
        {
            "values": values,
            "errors": errors,
            "kinds": Case.Kind.choices,
            "categories": Case.Category.choices,
            "priorities": Case.Priority.choices,
            "properties": properties_list(actor=actor),
        },
        status=400 if errors else 200,
    )
