"""Screens of the service desk: the guest's survey page (outside the staff sign-in, like
the unsubscribe page, reached only through a signed link), the case queue with its
timers and the satisfaction figures."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

LINK_INVALID = "service/survey_invalid.html"


def _language(request, invitation) -> str:
    """The guest's language when the group offers it, else the page's."""
    from saas.ui.i18n import tenant_languages

    offered = {code for code, _ in tenant_languages()}
    wanted = invitation.language or ""
    if wanted in offered:
        return wanted
    return translation.get_language() or settings.LANGUAGE_CODE


@never_cache
def survey_answer_view(request, token: str):
    """GET shows the questions (``?score=9`` preselects the NPS answer, for the one-tap
    score buttons of the e-mail: mail scanners follow links, so a GET never stores);
    POST stores the answer, or a second time updates it."""
    from crm.service.models import Question
    from crm.service.services.surveys import invitation_from_token, survey_answer

    invitation = invitation_from_token(token)
    if invitation is None:
        return render(request, LINK_INVALID, status=404)
    language = _language(request, invitation)
    with translation.override(language):
        survey = invitation.survey
        questions = list(survey.questions.order_by("position", "pk"))
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        status = 200
        done = False
        if request.method == "POST":
            values = {q.key: request.POST.get(f"q-{q.key}", "") for q in questions}
            try:
                survey_answer(invitation=invitation, answers=values, language=language)
                done = True
            except ValidationError as exc:
                errors = {
                    k.removeprefix("answers."): " ".join(v) for k, v in exc.message_dict.items()
                }
                status = 400
        else:
            existing = getattr(invitation, "response", None)
            values = dict(existing.answers) if existing is not None else {}
            score = request.GET.get("score", "")
            nps = next((q for q in questions if q.kind == Question.Kind.NPS), None)
            if nps is not None and score.isdigit() and int(score) <= 10:
                values[nps.key] = int(score)
        rows = []
        for question in questions:
            if question.kind == Question.Kind.NPS:
                scale = list(range(0, 11))
            elif question.kind in (Question.Kind.CSAT, Question.Kind.DEPARTMENT):
                scale = list(range(1, 6))
            else:
                scale = []
            value = values.get(question.key, "")
            rows.append(
                {
                    "q": question,
                    "name": f"q-{question.key}",
                    "scale": scale,
                    "value": "" if value is None else str(value),
                    "error": errors.get(question.key, ""),
                }
            )
        return render(
            request,
            "service/survey_answer.html",
            {
                "survey": survey,
                "rows": rows,
                "done": done,
                "errors": errors,
                "hotel": invitation.property.name if invitation.property is not None else "",
                "language": language,
            },
            status=status,
        )


# --- staff screens ----------------------------------------------------------------------

QUEUE_PAGE = 50


@login_required
def service_queue(request):
    """Running cases with their timers, the next due first; filters by hotel, priority
    and timer state (breached, paused, running, untimed)."""
    from crm.models import Case
    from crm.selectors.operations import properties_list
    from crm.service.selectors import QUEUE_STATES, case_queue, queue_row
    from tenants.access.principal import Principal

    actor = Principal.from_request(request)
    raw_property = request.GET.get("property") or ""
    errors = []
    if raw_property and not (raw_property.isdigit() and len(raw_property) < 19):
        errors.append(_("Pick a hotel from the list."))
        raw_property = ""
    try:
        cases = case_queue(
            actor=actor,
            property_id=int(raw_property) if raw_property else None,
            priority=request.GET.get("priority") or "",
            state=request.GET.get("state") or "",
        )
    except ValidationError as exc:
        errors += [" ".join(v) for v in exc.message_dict.values()]
        cases = case_queue(actor=actor)
    # Pages without a total: counting every running case of a large group costs more
    # than the page itself (the queue is read in order, a page at a time).
    raw_page = request.GET.get("page") or "1"
    number = int(raw_page) if raw_page.isdecimal() and 0 < int(raw_page) < 100_000 else 1
    start = (number - 1) * QUEUE_PAGE
    rows = list(cases[start : start + QUEUE_PAGE + 1])
    page = {
        "number": number,
        "has_previous": number > 1,
        "previous_page_number": number - 1,
        "has_next": len(rows) > QUEUE_PAGE,
        "next_page_number": number + 1,
    }
    query = request.GET.copy()
    query.pop("page", None)
    state_labels = {
        "breached": _("Breached"),
        "paused": _("Waiting on the guest"),
        "running": _("Running"),
        "untimed": _("No target"),
    }
    return render(
        request,
        "service/queue.html",
        {
            "page": page,
            "rows": [queue_row(case) for case in rows[:QUEUE_PAGE]],
            "errors": errors,
            "values": request.GET,
            "priorities": Case.Priority.choices,
            "states": [(s, state_labels[s]) for s in QUEUE_STATES],
            "properties": properties_list(actor=actor),
            "query": query.urlencode(),
        },
        status=400 if errors else 200,
    )


@login_required
def service_satisfaction(request):
    """NPS, CSAT and response rate per hotel and month (this year unless ``start`` and
    ``end`` say otherwise), for the caller's hotels."""
    from datetime import date

    from crm.models import Property
    from crm.service.selectors import survey_measures
    from tenants.access.principal import Principal

    actor = Principal.from_request(request)
    today = date.today()
    errors = []
    period = {}
    for name, default in (("start", date(today.year, 1, 1)), ("end", date(today.year, 12, 31))):
        raw = request.GET.get(name) or ""
        try:
            period[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            errors.append(_("Give dates as YYYY-MM-DD."))
            period[name] = default
    try:
        rows = survey_measures(actor=actor, start=period["start"], end=period["end"])
    except ValidationError as exc:
        errors += [" ".join(v) for v in exc.message_dict.values()]
        rows = []
    levels: list[dict[str, Any]] = []
    if actor.can("case", "view") and not errors:
        from crm.service.selectors import sla_measures

        levels = sla_measures(actor=actor, start=period["start"], end=period["end"])
    names = dict(
        Property.objects.filter(
            pk__in=[r["property"] for r in rows] + [r["property"] for r in levels]
        ).values_list("pk", "name")
    )
    for row in rows + levels:
        row["hotel"] = names.get(row["property"], "—")
    return render(
        request,
        "service/satisfaction.html",
        {
            "rows": rows,
            "levels": levels,
            "show_levels": actor.can("case", "view"),
            "errors": errors,
            "start": period["start"],
            "end": period["end"],
        },
        status=400 if errors else 200,
    )
