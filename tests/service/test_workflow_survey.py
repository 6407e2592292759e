"""The send_survey workflow action: a stay checked out sends the guest the survey's
one-click link in the guest's language and the link opens the survey; a workflow
naming no active survey, or on another object than stays, is refused."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from crm.models import Reservation
from crm.service.models import Invitation
from crm.service.services.surveys import survey_create
from crm.services.reservations import reservation_status_change
from metadata.services.workflows import workflow_create
from tests.crm.factories import make_guest, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
CHECKED_OUT = {
    "type": "record_updated",
    "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}],
}


def test_checking_out_sends_the_survey_link_in_the_guests_language(
    hotels, settings, django_capture_on_commit_callbacks
):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    survey_create(
        key="post-stay",
        title="How was your stay?",
        translations={"zh-hans": {"title": "您的住宿体验如何？"}},
        questions=[{"key": "nps", "kind": "nps", "text": "Recommend?"}],
        actor=SYSTEM,
    )
    workflow_create(
        key="post_stay_survey_real",
        name="Post-stay survey",
        object_api_name="reservation",
        trigger=CHECKED_OUT,
        actions=[{"type": "send_survey", "survey": "post-stay"}],
        enabled=True,
        actor=SYSTEM,
    )
    guest = make_guest(surname="Chen", emails=["chen@example.cn"], language="zh-hans")
    stay = make_reservation(
        property=hotels["paris"], guest=guest, status=Reservation.Status.IN_HOUSE
    )
    with django_capture_on_commit_callbacks(execute=True):
        reservation_status_change(
            reservation=stay, status=Reservation.Status.CHECKED_OUT, actor=SYSTEM
        )
    [message] = mail.outbox
    assert message.to == ["chen@example.cn"]
    assert message.subject == "您的住宿体验如何？"
    assert "请告诉我们您的住宿体验" in message.body and "/unsubscribe/" in message.body
    [invitation] = Invitation.objects.filter(reservation=stay)
    assert invitation.channel == "email" and invitation.guest_id == guest.pk
    path = re.search(r"https?://[^/]+(/survey/[^/\s]+/)", message.body).group(1)
    assert Client(HTTP_HOST="alpha.test").get(path).status_code == 200


def test_a_workflow_naming_no_active_survey_is_refused(hotels):
    with pytest.raises(ValidationError) as refused:
        workflow_create(
            key="no_survey",
            name="No survey",
            object_api_name="reservation",
            trigger=CHECKED_OUT,
            actions=[{"type": "send_survey", "survey": "nowhere"}],
            actor=SYSTEM,
        )
    assert any("survey" in key for key in refused.value.message_dict)
    with pytest.raises(ValidationError):
        workflow_create(
            key="on_guests",
            name="On guests",
            object_api_name="guest",
            trigger={"type": "record_created"},
            actions=[{"type": "send_survey", "survey": "nowhere"}],
            actor=SYSTEM,
        )
