"""The service desk through the API (module ``service``; API keys need ``service:read``
/ ``service:write``):

    GET, POST  /api/v1/service-levels/                  targets per category and priority
    GET, PATCH /api/v1/service-levels/{id}/
    GET, POST  /api/v1/service-calendars/               a hotel's (or the group's) hours
    GET        /api/v1/cases/{id}/sla/                  the case's timers
    POST       /api/v1/cases/{id}/sla/pause/            waiting on the guest
    POST       /api/v1/cases/{id}/sla/resume/
    GET, POST  /api/v1/surveys/                         definitions with their questions
    GET, PATCH /api/v1/surveys/{id}/
    POST       /api/v1/surveys/{id}/invitations/        a guest's signed link for a stay
    GET        /api/v1/survey-responses/                answers (?survey=&property=&guest=)
    GET        /api/v1/survey-responses/{id}/
    GET        /api/v1/survey-measures/?start=&end=     NPS, CSAT, response rate by hotel/month

Each view asks the principal for the right first (a refusal is a 403 before any 400 or
404), calls one selector or service and renders what the principal may see. Errors are
the house's ``{"errors": [...]}``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from crm.models import Case
from crm.service.apps import MODULE
from crm.service.models import BusinessCalendar, Question, ServiceLevel, Survey
from crm.service.models import Response as SurveyResponse
from crm.service.selectors import (
    calendars_list,
    case_sla,
    response_get,
    responses_list,
    service_level_get,
    service_levels_list,
    survey_get,
    survey_measures,
    surveys_list,
)
from crm.service.services.levels import calendar_set, service_level_create, service_level_update
from crm.service.services.sla import PAUSE_REASONS, case_sla_pause, case_sla_resume
from crm.service.services.surveys import invitation_create, link_path, survey_create, survey_update
from metadata.selectors.records import record_for
from saas.api.modules import PAGE_PARAMS, ModuleApi
from saas.api.modules import body_valid as _valid
from saas.api.modules import error_responses as _errors
from saas.api.modules import id_field as _id
from saas.api.modules import int_param as _int_param
from saas.api.modules import page_of as _page_of
from saas.api.modules import path_id as _pk
from saas.api.serializers import FullDateField, StrictSerializer
from tenants.errors import NotFound

# --- representations ------------------------------------------------------------------


def level_as_dict(level: ServiceLevel) -> dict[str, Any]:
    return {
        "id": level.pk,
        "category": level.category,
        "priority": level.priority,
        "first_response_minutes": level.first_response_minutes,
        "resolution_minutes": level.resolution_minutes,
        "active": level.active,
        "updated": level.updated,
    }


def calendar_as_dict(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "property": calendar.property_id,
        "name": calendar.name,
        "timezone": calendar.timezone,
        "hours": [
            {
                "weekday": h.weekday,
                "opens": h.opens.strftime("%H:%M"),
                "closes": h.closes.strftime("%H:%M"),
            }
            for h in calendar.hours.all()
        ],
        "holidays": [{"day": d.day.isoformat(), "name": d.name} for d in calendar.holidays.all()],
    }


def question_as_dict(question: Question) -> dict[str, Any]:
    return {
        "key": question.key,
        "kind": question.kind,
        "text": str(question.text),
        "department": question.department,
        "required": question.required,
    }


def survey_as_dict(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.pk,
        "key": survey.key,
        "title": str(survey.title),
        "intro": str(survey.intro or ""),
        "active": survey.active,
        "link_days": survey.link_days,
        "case_at_nps": survey.case_at_nps,
        "remind_after_days": survey.remind_after_days,
        "questions": [question_as_dict(q) for q in survey.questions.all()],
        "created": survey.created,
        "updated": survey.updated,
    }


def response_as_dict(response: SurveyResponse) -> dict[str, Any]:
    return {
        "id": response.pk,
        "survey": response.survey_id,
        "guest": response.guest_id,
        "reservation": response.reservation_id,
        "property": response.property_id,
        "channel": response.channel,
        "language": response.language,
        "nps": response.nps,
        "csat": response.csat,
        "comment": response.comment,
        "ratings": response.ratings,
        "answers": response.answers,
        "times_answered": response.times_answered,
        "case": response.case_id,
        "submitted_at": response.submitted_at,
        "updated_at": response.updated_at,
    }


# --- schemas --------------------------------------------------------------------------


CATEGORIES = [("", "Any category"), *Case.Category.choices]


class ServiceLevelOut(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=CATEGORIES, help_text="Blank: any category")
    priority = serializers.ChoiceField(choices=Case.Priority.choices)
    first_response_minutes = serializers.IntegerField(help_text="Business minutes")
    resolution_minutes = serializers.IntegerField(help_text="Business minutes")
    active = serializers.BooleanField()
    updated = serializers.DateTimeField()


class ServiceLevelIn(StrictSerializer):
    category = serializers.ChoiceField(choices=CATEGORIES, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Case.Priority.choices)
    first_response_minutes = serializers.IntegerField(min_value=1, max_value=527_040)
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=527_040)
    active = serializers.BooleanField(required=False)


class ServiceLevelChange(StrictSerializer):
    category = serializers.ChoiceField(choices=CATEGORIES, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)
    first_response_minutes = serializers.IntegerField(
        min_value=1, max_value=527_040, required=False
    )
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=527_040, required=False)
    active = serializers.BooleanField(required=False)


class OpeningIn(StrictSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 Monday .. 6 Sunday")
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M", help_text="00:00 is midnight")


class HolidayIn(StrictSerializer):
    day = FullDateField()
    # Fields named like a serializer's own attributes: DRF takes them, the stubs do not.
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class CalendarIn(StrictSerializer):
    property = _id(allow_null=True, help_text="The hotel; null: the group's default calendar")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Blank: the hotel's"
    )
    hours = OpeningIn(many=True, help_text="No openings at all: open around the clock")
    holidays = HolidayIn(many=True, required=False)


class OpeningOut(serializers.Serializer):
    weekday = serializers.IntegerField()
    opens = serializers.CharField()
    closes = serializers.CharField()


class HolidayOut(serializers.Serializer):
    day = FullDateField()
    name = serializers.CharField(allow_blank=True)


class CalendarOut(serializers.Serializer):
    id = serializers.IntegerField()
    property = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    timezone = serializers.CharField(allow_blank=True)
    hours = OpeningOut(many=True)
    holidays = HolidayOut(many=True)


TIMER_STATES = ["none", "running", "paused", "met", "breached"]


class TimerOut(serializers.Serializer):
    target_minutes = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True, help_text="Null while paused")
    done_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=TIMER_STATES)


class CaseSlaOut(serializers.Serializer):
    case = serializers.IntegerField()
    service_level = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    paused = serializers.BooleanField()
    paused_since = serializers.DateTimeField(allow_null=True)
    pause_reason = serializers.CharField(allow_blank=True)
    paused_minutes = serializers.IntegerField(help_text="Business minutes spent stopped")
    first_response = TimerOut()
    resolution = TimerOut()


class PauseIn(StrictSerializer):
    reason = serializers.ChoiceField(choices=PAUSE_REASONS, required=False)


_TRANSLATIONS = serializers.DictField(
    child=serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True)),
    required=False,
    help_text='{"zh-hans": {"title": "您的住宿体验如何？"}}',
)


class QuestionIn(StrictSerializer):
    key = serializers.SlugField(max_length=40)
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField(max_length=500)
    department = serializers.SlugField(max_length=40, required=False, allow_blank=True)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    translations = _TRANSLATIONS


class QuestionOut(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField()
    department = serializers.CharField(allow_blank=True)
    required = serializers.BooleanField()  # type: ignore[assignment]


class SurveyIn(StrictSerializer):
    key = serializers.SlugField(max_length=40)
    title = serializers.CharField(max_length=200)
    intro = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    link_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    case_at_nps = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True,
        help_text="An NPS at or below this opens a case; null: never",
    )  # fmt: skip
    # An empty list is refused by the service, naming ``questions``.
    remind_after_days = serializers.IntegerField(
        min_value=1, max_value=60, required=False, allow_null=True,
        help_text="Days after which one reminder goes to guests who have not answered; null: none",
    )  # fmt: skip
    questions = QuestionIn(many=True, max_length=30)  # type: ignore[call-arg]
    translations = _TRANSLATIONS


class SurveyChange(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False)
    intro = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    link_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    case_at_nps = serializers.IntegerField(min_value=0, max_value=10, required=False,
                                           allow_null=True)  # fmt: skip
    remind_after_days = serializers.IntegerField(
        min_value=1, max_value=60, required=False, allow_null=True,
        help_text="Days after which one reminder goes to guests who have not answered; null: none",
    )  # fmt: skip
    translations = _TRANSLATIONS


class SurveyOut(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    active = serializers.BooleanField()
    link_days = serializers.IntegerField()
    case_at_nps = serializers.IntegerField(allow_null=True)
    remind_after_days = serializers.IntegerField(allow_null=True)
    questions = QuestionOut(many=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class InvitationIn(StrictSerializer):
    guest = _id()
    reservation = _id(required=False, allow_null=True)
    channel = serializers.ChoiceField(
        choices=["email", "sms", "whatsapp", "wechat", "qr", "web"], required=False
    )


class InvitationOut(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField()
    guest = serializers.IntegerField()
    reservation = serializers.IntegerField(allow_null=True)
    property = serializers.IntegerField(allow_null=True)
    channel = serializers.CharField()
    link = serializers.URLField(help_text="The guest's one-click link; names nobody")
    expires_at = serializers.DateTimeField()
    answered = serializers.BooleanField()


class ResponseOut(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField()
    guest = serializers.IntegerField(allow_null=True)
    reservation = serializers.IntegerField(allow_null=True)
    property = serializers.IntegerField(allow_null=True)
    channel = serializers.CharField()
    language = serializers.CharField(allow_blank=True)
    nps = serializers.IntegerField(allow_null=True, min_value=0, max_value=10)
    csat = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)
    comment = serializers.CharField(allow_blank=True)
    ratings = serializers.DictField(child=serializers.IntegerField(), help_text="Department: 1-5")
    answers = serializers.DictField(help_text="Question key: answer")
    times_answered = serializers.IntegerField()
    case = serializers.IntegerField(allow_null=True, help_text="The case a low score opened")
    submitted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MeasuresIn(serializers.Serializer):
    start = FullDateField()
    end = FullDateField()


class MeasureOut(serializers.Serializer):
    property = serializers.IntegerField(allow_null=True)
    month = serializers.CharField(help_text="YYYY-MM, the group's time zone")
    invitations = serializers.IntegerField()
    responses = serializers.IntegerField()
    response_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    nps = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    nps_answers = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    csat = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% answering 4 or 5"
    )
    csat_average = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    csat_answers = serializers.IntegerField()


# --- views ----------------------------------------------------------------------------


class ServiceApi(ModuleApi):
    module = MODULE


class ServiceLevelListApi(ServiceApi):
    object_api_name = "service_level"

    @extend_schema(
        operation_id="service_levels_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("ServiceLevelPage", ServiceLevelOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        return self.page(request, service_levels_list(actor=self.actor), level_as_dict)

    @extend_schema(
        operation_id="service_level_create",
        request=ServiceLevelIn,
        responses={201: ServiceLevelOut, **_errors(400, 401, 403, 409)},
        description="Targets in business minutes for a category (blank: any) and priority; "
        "409 duplicate when the pair has one.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("service_level", "create")
        level = service_level_create(actor=actor, **_valid(ServiceLevelIn, request))
        return self.one(level_as_dict(level), status=201)


class ServiceLevelDetailApi(ServiceApi):
    object_api_name = "service_level"

    @extend_schema(
        operation_id="service_level_retrieve",
        responses={200: ServiceLevelOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(level_as_dict(service_level_get(actor=self.actor, level_id=_pk(pk))))

    @extend_schema(
        operation_id="service_level_update",
        request=ServiceLevelChange,
        responses={200: ServiceLevelOut, **_errors(400, 401, 403, 404, 409)},
        description="Running cases keep the targets they started with.",
    )
    def patch(self, request, pk: int):
        actor = self.actor
        actor.require("service_level", "edit")
        values = _valid(ServiceLevelChange, request)
        level = service_level_get(actor=actor, level_id=_pk(pk))
        return self.one(level_as_dict(service_level_update(level=level, actor=actor, **values)))


class CalendarListApi(ServiceApi):
    object_api_name = "service_level"

    @extend_schema(
        operation_id="service_calendars_list",
        responses={
            200: inline_serializer(name="CalendarList", fields={"results": CalendarOut(many=True)}),
            **_errors(401, 403),
        },
    )
    def get(self, request):
        actor = self.actor
        return Response({"results": [calendar_as_dict(c) for c in calendars_list(actor=actor)]})

    @extend_schema(
        operation_id="service_calendar_set",
        request=CalendarIn,
        responses={
            201: OpenApiResponse(CalendarOut, description="The hotel had no calendar yet"),
            200: OpenApiResponse(CalendarOut, description="The hotel's calendar was replaced"),
            **_errors(400, 401, 403, 404),
        },
        description="Set a hotel's calendar as a whole (opening hours per weekday, "
        "holidays); due times of its cases move at their next change.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("service_level", "edit")
        values = _valid(CalendarIn, request)
        hotel = None
        if values.get("property") is not None:
            hotel = record_for(
                actor=actor, object_api_name="property", record_id=values["property"]
            )
        existed = BusinessCalendar.objects.filter(property=hotel).exists()
        calendar = calendar_set(
            property=hotel,
            name=values.get("name") or "",
            timezone=values.get("timezone") or "",
            hours=[dict(h) for h in values["hours"]],
            holidays=[dict(h) for h in values.get("holidays") or []],
            actor=actor,
        )
        calendar = calendars_list(actor=actor).get(pk=calendar.pk)
        return Response(calendar_as_dict(calendar), status=200 if existed else 201)


class CaseSlaApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_sla_retrieve",
        responses={200: CaseSlaOut, **_errors(401, 403, 404)},
        description="The case's first-response and resolution timers (business time of "
        "its hotel's calendar).",
    )
    def get(self, request, pk: int):
        actor = self.actor
        case = record_for(actor=actor, object_api_name="case", record_id=_pk(pk))
        return Response(case_sla(actor=actor, case=case))


class CaseSlaPauseApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_sla_pause",
        request=PauseIn,
        responses={200: CaseSlaOut, **_errors(400, 401, 403, 404, 409)},
        description="Stop the clock while the case waits on the guest (409 not_running "
        "when resolved or already waiting).",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case", "edit")
        case = record_for(actor=actor, object_api_name="case", record_id=_pk(pk), action="edit")
        values = _valid(PauseIn, request)
        case_sla_pause(case=case, actor=actor, reason=values.get("reason") or "waiting_on_guest")
        return Response(case_sla(actor=actor, case=case))


class CaseSlaResumeApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_sla_resume",
        request=None,
        responses={200: CaseSlaOut, **_errors(401, 403, 404, 409)},
        description="Start the clock again; due times move by the business time spent "
        "waiting (409 not_paused; 409 status_waiting while the case's status is "
        "waiting_on_guest: leaving that status resumes it).",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case", "edit")
        case = record_for(actor=actor, object_api_name="case", record_id=_pk(pk), action="edit")
        case_sla_resume(case=case, actor=actor)
        return Response(case_sla(actor=actor, case=case))


class SurveyListApi(ServiceApi):
    object_api_name = "survey"

    @extend_schema(
        operation_id="surveys_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("SurveyPage", SurveyOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        return self.page(request, surveys_list(actor=self.actor), survey_as_dict)

    @extend_schema(
        operation_id="survey_create",
        request=SurveyIn,
        responses={201: SurveyOut, **_errors(400, 401, 403, 409)},
        description="A survey and its questions (one NPS and one CSAT question at most); "
        'texts translated with "translations".',
    )
    def post(self, request):
        actor = self.actor
        actor.require("survey", "create")
        values = _valid(SurveyIn, request)
        values["questions"] = [dict(q) for q in values["questions"]]
        survey = survey_create(actor=actor, **values)
        return self.one(survey_as_dict(survey_get(actor=actor, survey_id=survey.pk)), status=201)


class SurveyDetailApi(ServiceApi):
    object_api_name = "survey"

    @extend_schema(
        operation_id="survey_retrieve", responses={200: SurveyOut, **_errors(401, 403, 404)}
    )
    def get(self, request, pk: int):
        return self.one(survey_as_dict(survey_get(actor=self.actor, survey_id=_pk(pk))))

    @extend_schema(
        operation_id="survey_update",
        request=SurveyChange,
        responses={200: SurveyOut, **_errors(400, 401, 403, 404)},
        description="Texts and settings; the questions stay (answers refer to them).",
    )
    def patch(self, request, pk: int):
        actor = self.actor
        actor.require("survey", "edit")
        values = _valid(SurveyChange, request)
        survey = survey_get(actor=actor, survey_id=_pk(pk))
        survey_update(survey=survey, actor=actor, **values)
        return self.one(survey_as_dict(survey_get(actor=actor, survey_id=survey.pk)))


class SurveyInvitationApi(ServiceApi):
    object_api_name = "survey_response"

    @extend_schema(
        operation_id="survey_invitation_create",
        request=InvitationIn,
        responses={
            201: OpenApiResponse(InvitationOut, description="A new invitation"),
            200: OpenApiResponse(InvitationOut, description="The stay's invitation already"),
            **_errors(400, 401, 403, 404),
        },
        description="The guest's invitation for a stay and its one-click link (one per "
        "survey, guest and stay: asking again gives the same).",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("survey_response", "create")
        values = _valid(InvitationIn, request)
        survey = survey_get(actor=actor, survey_id=_pk(pk))
        guest = record_for(actor=actor, object_api_name="guest", record_id=values["guest"])
        reservation = None
        if values.get("reservation") is not None:
            reservation = record_for(
                actor=actor, object_api_name="reservation", record_id=values["reservation"]
            )
        from crm.service.models import Invitation

        existed = Invitation.objects.filter(
            survey=survey, guest=guest, reservation=reservation
        ).exists()
        invitation = invitation_create(
            survey=survey,
            guest=guest,
            reservation=reservation,
            channel=values.get("channel") or "email",
            actor=actor,
        )
        body = {
            "id": invitation.pk,
            "survey": survey.pk,
            "guest": guest.pk,
            "reservation": invitation.reservation_id,
            "property": invitation.property_id,
            "channel": invitation.channel,
            "link": request.build_absolute_uri(link_path(invitation)),
            "expires_at": invitation.expires_at,
            "answered": hasattr(invitation, "response"),
        }
        return Response(body, status=200 if existed else 201)


class ResponseListApi(ServiceApi):
    object_api_name = "survey_response"

    @extend_schema(
        operation_id="survey_responses_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("survey", int),
            OpenApiParameter("property", int, description="The stay's hotel"),
            OpenApiParameter("guest", int),
        ],
        responses={200: _page_of("SurveyResponsePage", ResponseOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        queryset = responses_list(
            actor=self.actor,
            survey_id=_int_param(request, "survey"),
            property_id=_int_param(request, "property"),
            guest_id=_int_param(request, "guest"),
        )
        return self.page(request, queryset, response_as_dict)


class ResponseDetailApi(ServiceApi):
    object_api_name = "survey_response"

    @extend_schema(
        operation_id="survey_response_retrieve",
        responses={200: ResponseOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(response_as_dict(response_get(actor=self.actor, response_id=_pk(pk))))


class MeasuresApi(ServiceApi):
    object_api_name = "survey_response"

    @extend_schema(
        operation_id="survey_measures",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
            OpenApiParameter("property", int),
            OpenApiParameter("survey", int),
        ],
        responses={
            200: inline_serializer(
                name="SurveyMeasures", fields={"results": MeasureOut(many=True)}
            ),
            **_errors(400, 401, 403),
        },
        description="NPS (% promoters 9-10 minus % detractors 0-6), CSAT (% answering 4 "
        "or 5) and response rate per hotel and month of the invitations sent in the "
        "months from start to end (the group's time zone); the caller's hotels only.",
    )
    def get(self, request):
        actor = self.actor
        actor.require("survey_response", "view")
        period = MeasuresIn(data=request.query_params)
        period.is_valid(raise_exception=True)
        rows = survey_measures(
            actor=actor,
            start=period.validated_data["start"],
            end=period.validated_data["end"],
            property_id=_int_param(request, "property"),
            survey_id=_int_param(request, "survey"),
        )
        out = [
            {k: (str(v) if k in DECIMALS and v is not None else v) for k, v in row.items()}
            for row in rows
        ]
        return Response({"results": out})


DECIMALS = ("response_rate", "nps", "csat", "csat_average")


# --- messages with the guest ----------------------------------------------------------


def message_as_dict(message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "case": message.case_id,
        "direction": message.direction,
        "address": message.address,
        "subject": message.subject,
        "body": message.body,
        "language": message.language,
        "user_id": message.user_id,
        "created_at": message.created_at,
    }


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=[("out", "To the guest"), ("in", "From the guest")])
    address = serializers.EmailField(help_text="The guest's address")
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)
    user_id = serializers.IntegerField(allow_null=True, help_text="Who replied")
    created_at = serializers.DateTimeField()


class ReplyIn(StrictSerializer):
    body = serializers.CharField(max_length=20_000)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)


class InboundIn(StrictSerializer):
    to = serializers.ListField(child=serializers.CharField(max_length=320), max_length=50)
    sender = serializers.CharField(max_length=320)
    subject = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    text = serializers.CharField(max_length=100_000, required=False, allow_blank=True)
    message_id = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="The mail's Message-ID: "
        "the same one twice (a relay's retry) keeps one message",
    )  # fmt: skip


class CaseMessagesApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_messages_list",
        responses={
            200: inline_serializer(
                name="CaseMessageList", fields={"results": MessageOut(many=True)}
            ),
            **_errors(401, 403, 404),
        },
        description="The e-mails of the case with its guest, oldest first.",
    )
    def get(self, request, pk: int):
        from crm.service.selectors import case_messages

        actor = self.actor
        case = record_for(actor=actor, object_api_name="case", record_id=_pk(pk))
        return Response(
            {"results": [message_as_dict(m) for m in case_messages(actor=actor, case=case)]}
        )

    @extend_schema(
        operation_id="case_reply_send",
        request=ReplyIn,
        responses={201: MessageOut, **_errors(400, 401, 403, 404, 409)},
        description="Reply to the case's guest by e-mail, in the guest's language, with a "
        "reply-to address that brings the answer back to this case (400 naming guest "
        "without an address, 409 opted_out).",
    )
    def post(self, request, pk: int):
        from crm.service.services.messages import case_reply_send

        actor = self.actor
        actor.require("case", "edit")
        # The case first: one out of reach is a 404 whatever the body says.
        case = record_for(actor=actor, object_api_name="case", record_id=_pk(pk), action="edit")
        values = _valid(ReplyIn, request)
        message = case_reply_send(
            case=case, body=values["body"], subject=values.get("subject") or "", actor=actor
        )
        return Response(message_as_dict(message), status=201)


class InboundEmailApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_inbound_email",
        request=InboundIn,
        responses={201: MessageOut, **_errors(400, 401, 403, 404)},
        description="For the mail relay (an API key with service:write): a guest's answer "
        "to a case's reply-to address lands on that case (404 naming to when no address "
        "is genuine or the case is out of reach).",
    )
    def post(self, request):
        from crm.service.services.messages import case_reply_receive

        actor = self.actor
        actor.require("case", "edit")
        values = _valid(InboundIn, request)
        message = case_reply_receive(
            to=values["to"],
            sender=values["sender"],
            subject=values.get("subject") or "",
            text=values.get("text") or "",
            message_id=values.get("message_id") or "",
            actor=actor,
        )
        if message is None:
            raise NotFound("No case answers to these addresses.", field="to")
        return Response(message_as_dict(message), status=201)


class CompensationMeasureOut(serializers.Serializer):
    kind = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Decimal string"
    )
    currency = serializers.CharField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)


class SlaMeasureOut(serializers.Serializer):
    property = serializers.IntegerField(allow_null=True)
    month = serializers.CharField(help_text="YYYY-MM of the cases' creation, the group's zone")
    cases = serializers.IntegerField()
    first_response_met = serializers.IntegerField()
    first_response_breached = serializers.IntegerField()
    first_response_compliance = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% met of those decided"
    )
    resolution_met = serializers.IntegerField()
    resolution_breached = serializers.IntegerField()
    resolution_compliance = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True
    )
    first_response_minutes = serializers.IntegerField(
        allow_null=True, help_text="Mean minutes from the case's start to its first response"
    )
    resolution_minutes = serializers.IntegerField(
        allow_null=True, help_text="Mean minutes from the case's start to its resolution"
    )
    reopened = serializers.IntegerField(help_text="Cases that came back after resolution")
    reopen_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% of the resolved"
    )
    categories = serializers.DictField(
        child=serializers.IntegerField(), help_text="Cases opened per category"
    )
    compensation = CompensationMeasureOut(many=True, help_text="Approved, per kind and currency")


class SlaMeasuresApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="service_measures",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
            OpenApiParameter("property", int),
        ],
        responses={
            200: inline_serializer(
                name="ServiceMeasures", fields={"results": SlaMeasureOut(many=True)}
            ),
            **_errors(400, 401, 403),
        },
        description="Service-level compliance per hotel and month of the cases opened "
        "from start to end: targets met and breached per timer, mean minutes to the first "
        "response and to resolution, cases reopened and the reopen rate, cases per "
        "category and approved compensation (the caller's hotels).",
    )
    def get(self, request):
        from crm.service.selectors import sla_measures

        actor = self.actor
        actor.require("case", "view")
        period = MeasuresIn(data=request.query_params)
        period.is_valid(raise_exception=True)
        rows = sla_measures(
            actor=actor,
            start=period.validated_data["start"],
            end=period.validated_data["end"],
            property_id=_int_param(request, "property"),
        )
        out = []
        for r in rows:
            row = {
                k: (str(v) if k.endswith(("_compliance", "_rate")) and v is not None else v)
                for k, v in r.items()
            }
            row["compensation"] = [
                {**c, "amount": None if c["amount"] is None else str(c["amount"])}
                for c in r["compensation"]
            ]
            out.append(row)
        return Response({"results": out})
