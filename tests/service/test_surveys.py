"""Surveys: a signed link per guest and stay that works without signing in, answers
stored with the stay, hotel and channel, a second answer updating the first, expired
and tampered links refused, a low score opening a case, and the measures."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client

from crm.models import Case
from crm.service.models import Invitation, Response
from crm.service.selectors import survey_measures
from crm.service.services.surveys import (
    LINK_SALT,
    invitation_create,
    invitation_from_token,
    link_path,
    link_token,
    survey_answer,
    survey_create,
)
from tests.crm.factories import make_guest, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {
        "key": "recommend",
        "kind": "nps",
        "text": "How likely are you to recommend us to a friend?",
        "required": True,
        "translations": {"zh-hans": {"text": "您向朋友推荐我们的可能性有多大？"}},
    },
    {"key": "overall", "kind": "csat", "text": "How satisfied were you with your stay?"},
    {
        "key": "housekeeping",
        "kind": "department",
        "department": "housekeeping",
        "text": "Housekeeping",
    },
    {"key": "remarks", "kind": "text", "text": "Anything else?"},
]


@pytest.fixture
def survey(hotels):
    return survey_create(
        key="post-stay",
        title="How was your stay?",
        questions=QUESTIONS,
        translations={"zh-hans": {"title": "您的住宿体验如何？"}},
        actor=SYSTEM,
    )


@pytest.fixture
def stay(hotels):
    guest = make_guest(surname="Survey", emails=["guest@example.com"], language="zh-hans")
    return make_reservation(property=hotels["paris"], guest=guest)


@pytest.fixture
def invitation(survey, stay, clock):
    clock.set(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    return invitation_create(
        survey=survey, guest=stay.guest, reservation=stay, channel="email", actor=SYSTEM
    )


def _client(tenant) -> Client:
    return Client(HTTP_HOST=f"{tenant.slug}.test")


def test_the_link_carries_no_personal_data_and_one_stay_has_one_invitation(
    invitation, stay, survey
):
    token = link_token(invitation)
    readable = signing.loads(token, salt=LINK_SALT)
    assert set(readable) == {"t", "k"}
    for personal in ("Survey", "guest@example.com", "Ana"):
        assert personal not in token and personal not in str(readable)
    assert set(readable.values()) & {stay.guest.pk, stay.pk} == set()
    again = invitation_create(survey=survey, guest=stay.guest, reservation=stay, actor=SYSTEM)
    assert again.pk == invitation.pk
    assert Invitation.objects.filter(survey=survey).count() == 1
    assert invitation.property_id == stay.property_id
    assert invitation.expires_at == datetime(2026, 4, 4, 10, 0, tzinfo=UTC)


def test_the_guest_answers_on_a_phone_without_signing_in_and_a_second_answer_updates(
    desk, invitation, stay, clock
):
    client = _client(desk)
    path = link_path(invitation)
    page = client.get(path + "?score=8", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert page.status_code == 200
    text = page.content.decode()
    # In the guest's language, the tapped score preselected, nothing stored by a GET.
    assert "您的住宿体验如何？" in text and "您向朋友推荐我们的可能性有多大？" in text
    assert 'value="8" checked' in text
    assert "提交" in text  # the button, from the catalogue (make messages compiles it)
    assert 'name="viewport"' in text
    assert Response.objects.count() == 0

    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    first = client.post(
        path, {"q-recommend": "8", "q-overall": "4", "q-housekeeping": "5", "q-remarks": "Nice"}
    )
    assert first.status_code == 200
    clock.set(datetime(2026, 3, 7, 9, 0, tzinfo=UTC))
    second = client.post(path, {"q-recommend": "10", "q-overall": "5", "q-remarks": "Lovely"})
    assert second.status_code == 200
    [response] = Response.objects.filter(invitation=invitation)
    assert (response.nps, response.csat, response.comment) == (10, 5, "Lovely")
    assert response.ratings == {}
    assert response.times_answered == 2
    assert response.submitted_at == datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    assert (response.property_id, response.reservation_id, response.guest_id) == (
        stay.property_id,
        stay.pk,
        stay.guest_id,
    )
    assert (response.channel, response.language) == ("email", "zh-hans")
    assert response.case_id is None


def test_a_bad_answer_is_a_400_naming_the_question_and_stores_nothing(desk, invitation):
    client = _client(desk)
    refused = client.post(link_path(invitation), {"q-recommend": "11", "q-overall": "4"})
    assert refused.status_code == 400
    # The guest reads why in their language, next to the question.
    assert "请选择 0 到 10 之间的数字。" in refused.content.decode()
    assert Response.objects.count() == 0
    with pytest.raises(ValidationError) as missing:
        survey_answer(invitation=invitation, answers={"overall": 3})
    assert list(missing.value.message_dict) == ["answers.recommend"]
    with pytest.raises(ValidationError) as unknown:
        survey_answer(invitation=invitation, answers={"recommend": 9, "colour": "blue"})
    assert list(unknown.value.message_dict) == ["answers.colour"]


def test_expired_and_tampered_links_are_refused(desk, invitation, clock):
    client = _client(desk)
    token = link_token(invitation)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/survey/{tampered}/").status_code == 404
    forged = signing.dumps({"t": desk.schema_name, "k": invitation.key.hex}, salt="other")
    assert client.get(f"/survey/{forged}/").status_code == 404
    # Another hotel group's link does not open here.
    elsewhere = signing.dumps({"t": "someone_else", "k": invitation.key.hex}, salt=LINK_SALT)
    assert invitation_from_token(elsewhere) is None

    clock.set(invitation.expires_at - timedelta(seconds=1))
    assert client.get(f"/survey/{token}/").status_code == 200
    clock.set(invitation.expires_at)
    assert client.get(f"/survey/{token}/").status_code == 404
    posted = client.post(f"/survey/{token}/", {"q-recommend": "9"})
    assert posted.status_code == 404
    assert Response.objects.count() == 0


def test_a_score_of_three_opens_one_high_priority_case_for_the_stay(invitation, stay):
    response = survey_answer(
        invitation=invitation, answers={"recommend": 3, "remarks": "Noisy room"}
    )
    case = Case.objects.get(pk=response.case_id)
    assert (case.guest_id, case.reservation_id, case.property_id) == (
        stay.guest_id,
        stay.pk,
        stay.property_id,
    )
    assert (case.kind, case.priority, case.channel) == ("feedback", "high", "survey")
    assert "NPS 3/10" in case.description and "Noisy room" in case.description
    # Answering again, still low, does not open a second case.
    again = survey_answer(invitation=invitation, answers={"recommend": 2})
    assert again.case_id == case.pk
    assert Case.objects.filter(channel="survey").count() == 1


def test_a_score_of_seven_opens_no_case(invitation):
    assert survey_answer(invitation=invitation, answers={"recommend": 7}).case_id is None
    assert Case.objects.filter(channel="survey").count() == 0


def test_nps_csat_and_response_rate_equal_a_hand_computation(survey, hotels, clock):
    """Paris, March 2026: ten invitations, eight answers. NPS scores 10, 9, 9, 8, 7, 6,
    3 and one answer without a score: 3 promoters, 2 passives, 2 detractors of 7 scored
    -> (3 - 2) / 7 = 14.3. CSAT 5, 4, 4, 2, 1 -> 3 of 5 satisfied = 60.0 %, average 3.20.
    Tokyo, April: two invitations, one answer of 10 -> NPS 100, rate 50 %."""
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    answers = [
        {"recommend": 10, "overall": 5},
        {"recommend": 9, "overall": 4},
        {"recommend": 9},
        {"recommend": 8, "overall": 4},
        {"recommend": 7},
        {"recommend": 6, "overall": 2},
        {"recommend": 3, "overall": 1},
        {"remarks": "no score"},
        None,
        None,
    ]
    from crm.service.models import Question

    Question.objects.filter(survey=survey, key="recommend").update(required=False)
    for given in answers:
        guest = make_guest()
        stay = make_reservation(property=hotels["paris"], guest=guest)
        invitation = invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
        if given is not None:
            survey_answer(invitation=invitation, answers=given)
    clock.set(datetime(2026, 4, 2, 3, 0, tzinfo=UTC))
    for given in ({"recommend": 10}, None):
        guest = make_guest()
        stay = make_reservation(property=hotels["tokyo"], guest=guest)
        invitation = invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
        if given is not None:
            survey_answer(invitation=invitation, answers=given)

    rows = survey_measures(actor=SYSTEM, start=date(2026, 3, 1), end=date(2026, 4, 30))
    by = {(r["property"], r["month"]): r for r in rows}
    paris = by[(hotels["paris"].pk, "2026-03")]
    assert (paris["invitations"], paris["responses"]) == (10, 8)
    assert paris["response_rate"] == Decimal("80.0")
    assert (paris["promoters"], paris["passives"], paris["detractors"]) == (3, 2, 2)
    assert paris["nps"] == Decimal("14.3")
    assert paris["csat"] == Decimal("60.0") and paris["csat_average"] == Decimal("3.20")
    tokyo = by[(hotels["tokyo"].pk, "2026-04")]
    assert (tokyo["nps"], tokyo["response_rate"], tokyo["csat"]) == (
        Decimal("100.0"),
        Decimal("50.0"),
        None,
    )
    assert len(rows) == 2
    only_march = survey_measures(actor=SYSTEM, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert [r["month"] for r in only_march] == ["2026-03"]


def test_survey_definitions_refuse_bad_questions_naming_them(hotels):
    with pytest.raises(ValidationError) as twice:
        survey_create(
            key="two-nps",
            title="T",
            questions=[
                {"key": "a", "kind": "nps", "text": "A"},
                {"key": "b", "kind": "nps", "text": "B"},
            ],
            actor=SYSTEM,
        )
    assert list(twice.value.message_dict) == ["questions[1].kind"]
    with pytest.raises(ValidationError) as department:
        survey_create(
            key="dept",
            title="T",
            questions=[{"key": "a", "kind": "department", "text": "A"}],
            actor=SYSTEM,
        )
    assert list(department.value.message_dict) == ["questions[0].department"]
    with pytest.raises(ValidationError) as language:
        survey_create(
            key="lang",
            title="T",
            questions=[{"key": "a", "kind": "text", "text": "A"}],
            translations={"xx": {"title": "?"}},
            actor=SYSTEM,
        )
    assert list(language.value.message_dict) == ["translations"]


def test_one_reminder_goes_to_guests_who_have_not_answered(
    survey, hotels, clock, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    from crm.service.services.surveys import survey_reminders_send
    from crm.services.guests import guest_consent_record

    settings.ATRIUM_WORKFLOWS_INLINE = True  # the outbox delivers in this process
    clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    people = {}
    for name, language in (("Quiet", "zh-hans"), ("Answered", "en"), ("OptedOut", "en")):
        guest = make_guest(surname=name, emails=[f"{name.lower()}@example.com"], language=language)
        stay = make_reservation(property=hotels["paris"], guest=guest)
        people[name] = invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
    survey_answer(invitation=people["Answered"], answers={"recommend": 9})
    guest_consent_record(
        guest=people["OptedOut"].guest,
        channel="email",
        purpose="service",
        opted_in=False,
        source="test",
        actor=SYSTEM,
    )

    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))  # two days: too early (3)
    assert survey_reminders_send() == 0
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_send() == 1
    assert survey_reminders_send() == 0  # reminded once
    [message] = mail.outbox
    assert message.to == ["quiet@example.com"]
    assert message.subject == "提醒：您的住宿体验如何？"
    path = re.search(r"https?://[^/]+(/survey/[^/\s]+/)", message.body).group(1)
    assert Client(HTTP_HOST="alpha.test").get(path).status_code == 200
    assert Invitation.objects.get(pk=people["Quiet"].pk).reminded_at == datetime(
        2026, 3, 4, 10, 0, tzinfo=UTC
    )
