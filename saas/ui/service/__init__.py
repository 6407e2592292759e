"""Screens of the service desk. For now the guest's survey page: outside the staff
sign-in (like the unsubscribe page), reached only through a signed link."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
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
