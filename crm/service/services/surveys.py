"""Surveys: definitions, invitations with a signed link, and the guest's answers.

The link carries ``django.core.signing`` of the tenant's schema and the invitation's
random key: nothing that names the guest, and nothing that can be changed without the
signature breaking. It stops working at the invitation's expiry (and, as a second lock,
when its signature is older than the longest link life). Answering again updates the
one answer of the invitation; a low NPS opens one case (through crm's case service, as
the system), whichever answer first scores low."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.models import Case, Guest, RecordChange, Reservation
from crm.service import clock
from crm.service.models import Invitation, Question, Response, Survey
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import Conflict

LINK_SALT = "atrium.service.survey-link"
LONGEST_LINK_DAYS = 365
_LANGS = {code for code, _ in settings.LANGUAGES}
SURVEY_FIELDS = (
    "key",
    "title",
    "intro",
    "active",
    "link_days",
    "case_at_nps",
    "remind_after_days",
)
MAX_QUESTIONS = 30
MAX_TEXT = 5000


def _translations(obj: Any, translations: Any, names: tuple[str, ...], field: str) -> None:
    if translations is None:
        return
    if not isinstance(translations, dict):
        raise ValidationError({field: 'Give {"zh-hans": {"title": "..."}}.'})
    for lang, values in translations.items():
        if lang not in _LANGS or not isinstance(values, dict):
            raise ValidationError({field: f"{lang} is not a supported language."})
        for name, text in values.items():
            if name not in names or not isinstance(text, str) or len(text) > MAX_TEXT:
                raise ValidationError({field: f"{name} cannot be translated here."})
            setattr(obj, f"{name}_{lang.replace('-', '_')}", text)


def _questions_clean(questions: Any) -> list[dict[str, Any]]:
    if not isinstance(questions, list) or not questions:
        raise ValidationError({"questions": "A survey asks at least one question."})
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError({"questions": f"At most {MAX_QUESTIONS} questions."})
    seen: set[str] = set()
    scores: set[str] = set()
    out = []
    for index, raw in enumerate(questions):
        where = f"questions[{index}]"
        if not isinstance(raw, dict):
            raise ValidationError({where: "Give the question as an object."})
        key, kind = raw.get("key"), raw.get("kind")
        if not isinstance(key, str) or not key or key in seen:
            raise ValidationError({f"{where}.key": "Give each question a key of its own."})
        if kind not in Question.Kind.values:
            raise ValidationError(
                {f"{where}.kind": f"Use one of {', '.join(Question.Kind.values)}."}
            )
        if kind in ("nps", "csat"):
            if kind in scores:
                raise ValidationError({f"{where}.kind": f"A survey asks one {kind} question."})
            scores.add(kind)
        department = raw.get("department") or ""
        if kind == "department" and not department:
            raise ValidationError({f"{where}.department": "Name the department rated."})
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValidationError({f"{where}.text": "Give the question's text."})
        seen.add(key)
        out.append({**raw, "department": department, "position": index})
    return out


@transaction.atomic
def survey_create(
    *,
    key: str,
    title: str,
    questions: list[dict[str, Any]],
    intro: str = "",
    active: bool = True,
    link_days: int = 30,
    case_at_nps: int | None = 6,
    remind_after_days: int | None = 3,
    translations: dict | None = None,
    actor: Principal,
) -> Survey:
    """A survey and its questions (``[{"key", "kind", "text", "department", "required",
    "translations": {"zh-hans": {"text": ...}}}]``)."""
    actor.require("survey", "create")
    if Survey.objects.filter(key=key).exists():
        raise Conflict(f"There is a survey {key} already.", code="duplicate", field="key")
    cleaned = _questions_clean(questions)
    survey = Survey(
        key=key,
        title=title,
        intro=intro,
        active=active,
        link_days=link_days,
        case_at_nps=case_at_nps,
        remind_after_days=remind_after_days,
    )
    survey.title_en = survey.title_en or title  # type: ignore[attr-defined]
    survey.intro_en = survey.intro_en or intro  # type: ignore[attr-defined]
    _translations(survey, translations, ("title", "intro"), "translations")
    survey.full_clean()
    survey.save()
    for index, raw in enumerate(cleaned):
        question = Question(
            survey=survey,
            key=raw["key"],
            kind=raw["kind"],
            text=raw["text"].strip(),
            department=raw["department"],
            required=bool(raw.get("required", False)),
            position=raw["position"],
        )
        question.text_en = question.text_en or question.text  # type: ignore[attr-defined]
        _translations(
            question, raw.get("translations"), ("text",), f"questions[{index}].translations"
        )
        try:
            question.full_clean(exclude=["survey"])
        except ValidationError as exc:
            raise ValidationError(
                {f"questions[{index}].{k}": v for k, v in exc.message_dict.items()}
            ) from None
        question.save()
    changes_record(
        object_api_name="survey",
        record_id=survey.pk,
        old={},
        new={**{n: getattr(survey, n) for n in SURVEY_FIELDS}, "questions": len(cleaned)},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return survey


@transaction.atomic
def survey_update(*, survey: Survey, actor: Principal, translations: dict | None = None,
                  **fields: Any) -> Survey:  # fmt: skip
    """Change a survey's texts and settings (its questions stay: answers refer to them)."""
    actor.require("survey", "edit")
    unknown = sorted(set(fields) - set(SURVEY_FIELDS) - {"key"})
    if unknown or "key" in fields:
        raise ValidationError({n: f"{n} cannot be changed." for n in unknown or ["key"]})
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    old = {n: getattr(locked, n) for n in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
        if name in ("title", "intro"):
            setattr(locked, f"{name}_en", value)
    _translations(locked, translations, ("title", "intro"), "translations")
    locked.full_clean()
    locked.save()
    changes_record(
        object_api_name="survey",
        record_id=locked.pk,
        old=old,
        new={n: getattr(locked, n) for n in fields},
        user_id=actor.user_id,
    )
    return locked


# --- invitations and links -----------------------------------------------------------


def link_token(invitation: Invitation) -> str:
    return signing.dumps({"t": current_schema(), "k": invitation.key.hex}, salt=LINK_SALT)


def link_path(invitation: Invitation) -> str:
    from django.urls import reverse

    return reverse("survey_answer", kwargs={"token": link_token(invitation)})


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation of a genuine, unexpired link of this tenant; None otherwise
    (tampered, another tenant's, expired, or its survey switched off)."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=LONGEST_LINK_DAYS + 1))
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("t") != current_schema():
        return None
    try:
        import uuid

        key = uuid.UUID(hex=str(data.get("k")))
    except ValueError:
        return None
    invitation = Invitation.objects.select_related("survey", "guest").filter(key=key).first()
    if invitation is None or invitation.expires_at <= clock.now() or not invitation.survey.active:
        return None
    return invitation


@transaction.atomic
def invitation_create(
    *,
    survey: Survey,
    guest: Guest,
    reservation: Reservation | None = None,
    channel: str = "email",
    actor: Principal,
) -> Invitation:
    """The guest's invitation for the stay (one per survey, guest and stay: asking again
    returns the first, still with its own expiry)."""
    actor.require("survey_response", "create")
    if not survey.active:
        raise ValidationError({"survey": "This survey is switched off."})
    if guest.erased_at is not None:
        raise ValidationError({"guest": "This guest's personal data was erased."})
    if reservation is not None and reservation.guest_id != guest.pk:
        raise ValidationError({"reservation": "The stay is another guest's."})
    property_id = reservation.property_id if reservation is not None else None
    actor.require_property(property_id)
    channel = (channel or "email").strip()[:20]
    existing = Invitation.objects.filter(
        survey=survey, guest=guest, reservation=reservation
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Invitation.objects.create(
                survey=survey,
                guest=guest,
                reservation=reservation,
                property_id=property_id,
                channel=channel,
                language=guest.language or "",
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(days=survey.link_days),
            )
    except IntegrityError:  # a concurrent invitation of the same stay won
        return Invitation.objects.get(survey=survey, guest=guest, reservation=reservation)


# --- answers ------------------------------------------------------------------------


def _int_in(value: Any, low: int, high: int, field: str) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            {field: _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        ) from None
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return number


def answers_clean(survey: Survey, answers: Any) -> dict[str, Any]:
    """Answers keyed by question key, typed; unknown keys and missing required answers
    are errors naming ``answers.<key>``."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": "Give the answers by question key."})
    questions = {q.key: q for q in survey.questions.all()}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise ValidationError(
            {f"answers.{k}": "This survey asks no such question." for k in unknown}
        )
    out: dict[str, Any] = {}
    for key, question in questions.items():
        value = answers.get(key)
        field = f"answers.{key}"
        if value in (None, ""):
            if question.required:
                raise ValidationError({field: _("Please answer this question.")})
            continue
        if question.kind == Question.Kind.NPS:
            out[key] = _int_in(value, 0, 10, field)
        elif question.kind in (Question.Kind.CSAT, Question.Kind.DEPARTMENT):
            out[key] = _int_in(value, 1, 5, field)
        else:
            if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
                raise ValidationError(
                    {field: _("Write up to %(count)s characters.") % {"count": MAX_TEXT}}
                )
            out[key] = value.strip()
    return out


@transaction.atomic
def survey_answer(*, invitation: Invitation, answers: Any, language: str = "") -> Response:
    """Store the guest's answer (the signed link is the guest's own word: no staff
    member acts). A second answer replaces the first's values in the same row."""
    survey = invitation.survey
    cleaned = answers_clean(survey, answers)
    kinds = {q.key: q for q in survey.questions.all()}
    nps = csat = None
    comments, ratings = [], {}
    for key, value in cleaned.items():
        question = kinds[key]
        if question.kind == Question.Kind.NPS:
            nps = value
        elif question.kind == Question.Kind.CSAT:
            csat = value
        elif question.kind == Question.Kind.DEPARTMENT:
            ratings[question.department] = value
        elif value:
            comments.append(value)
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    response = Response.objects.filter(invitation=locked).first()
    values = {
        "nps": nps,
        "csat": csat,
        "comment": "\n\n".join(comments),
        "ratings": ratings,
        "answers": cleaned,
        "language": (language or locked.language or "")[:10],
    }
    if response is None:
        response = Response.objects.create(
            invitation=locked,
            survey=survey,
            guest_id=locked.guest_id,
            reservation_id=locked.reservation_id,
            property_id=locked.property_id,
            channel=locked.channel,
            submitted_at=clock.now(),
            **values,
        )
    else:
        for name, value in values.items():
            setattr(response, name, value)
        response.times_answered += 1
        response.submitted_at = clock.now()
        response.save()
    if (
        survey.case_at_nps is not None
        and nps is not None
        and nps <= survey.case_at_nps
        and response.case_id is None
    ):
        response.case = _low_score_case(response)
        response.save(update_fields=["case", "updated_at"])
    return response


def _low_score_case(response: Response) -> Case:
    from crm.services.cases import case_create

    guest = response.guest
    reservation = response.reservation
    details = [f"NPS {response.nps}/10"]
    if response.csat is not None:
        details.append(f"CSAT {response.csat}/5")
    if response.comment:
        details.append(response.comment)
    return case_create(
        subject=f"Low survey score ({response.nps}/10): {response.survey.key}"[:200],
        description="\n\n".join(details),
        kind=Case.Kind.FEEDBACK,
        category=Case.Category.SERVICE,
        priority=Case.Priority.HIGH,
        channel="survey",
        guest=guest,
        reservation=reservation,
        property=reservation.property if reservation is not None else None,
        actor=Principal.system("service: low survey score"),
    )


def survey_reminders_send(*, limit: int = 500) -> int:
    """One reminder to each guest invited by e-mail who has not answered
    ``remind_after_days`` after the invitation, while the link still works, after the
    consent rules of service messages. Each invitation is claimed by a conditional
    update in the transaction that queues its e-mail, so a run repeated (or running
    beside another) reminds once."""
    from datetime import timedelta

    from crm.selectors.guests import guest_consent_state
    from crm.service.services.survey_mail import survey_email, unsubscribe_link
    from metadata.workflows.messaging import outbox_enqueue, tenant_base_url
    from tenants.context import current_tenant

    now = clock.now()
    candidates = (
        Invitation.objects.filter(
            channel="email",
            reminded_at__isnull=True,
            response__isnull=True,
            expires_at__gt=now,
            survey__active=True,
            survey__remind_after_days__isnull=False,
            guest__isnull=False,
            guest__erased_at__isnull=True,
            created_at__lte=now - timedelta(days=1),
        )
        .select_related("survey", "guest")
        .order_by("created_at", "pk")[:limit]
    )
    default = getattr(current_tenant(), "default_language", None) or "en"
    sent = 0
    for invitation in candidates:
        survey, guest = invitation.survey, invitation.guest
        assert survey.remind_after_days is not None and guest is not None
        if invitation.created_at > now - timedelta(days=survey.remind_after_days):
            continue
        if not guest.email:
            continue
        if guest_consent_state(guest_id=guest.pk, channel="email", purpose="service") is False:
            continue
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation.pk, reminded_at__isnull=True, response__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            language = invitation.language or default
            unsubscribe = unsubscribe_link(guest.pk)
            subject, body = survey_email(
                survey=survey,
                link=tenant_base_url() + link_path(invitation),
                language=language,
                unsubscribe=unsubscribe,
                reminder=True,
            )
            outbox_enqueue(
                channel="email",
                object_api_name="reservation" if invitation.reservation_id else "guest",
                record_id=str(invitation.reservation_id or guest.pk),
                recipient=guest.email,
                language=language,
                subject=subject,
                body=body,
                headers={"List-Unsubscribe": f"<{unsubscribe}>"},
            )
        sent += 1
    return sent
