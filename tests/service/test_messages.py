"""Replies to the guest from a case: sent through a real local SMTP server in the
guest's language with a signed reply-to address; the guest's answer to that address
lands on the same case and starts a waiting case's clock again; forged addresses land
nowhere."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError

from crm.service.models import CaseMessage, CaseSla
from crm.service.services.messages import case_reply_receive, case_reply_send, reply_address
from crm.service.services.sla import case_sla_pause
from crm.services.cases import case_create
from crm.services.guests import guest_consent_record
from tenants.errors import Conflict
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.conftest import PARIS
from tests.workflows.smtp import header, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    guest = make_guest(
        given_name="Wei", surname="Zhang", emails=["wei@example.cn"], language="zh-hans"
    )
    return case_create(
        subject="Air conditioning",
        category="room",
        priority="high",
        guest=guest,
        property=hotels["paris"],
        actor=SYSTEM,
    )


def test_a_reply_goes_out_by_smtp_and_the_guests_answer_lands_on_the_same_case(
    complaint,
    clock,
    smtp,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.ATRIUM_WORKFLOWS_INLINE = True  # the outbox delivers in this process
    clock.set(datetime(2026, 3, 10, 9, 30, tzinfo=PARIS))
    with django_capture_on_commit_callbacks(execute=True):
        sent = case_reply_send(case=complaint, body="我们已派工程师去您的房间。", actor=SYSTEM)
    [mail] = smtp.messages
    assert mail["X-Envelope-To"] == "wei@example.cn"
    assert header(mail, "Subject") == "关于您的请求：Air conditioning"
    assert "我们已派工程师去您的房间。" in text_of(mail)
    assert "直接回复此邮件即可答复我们。" in text_of(mail)
    address = header(mail, "Reply-To")
    assert address == reply_address(complaint)
    assert address.startswith(f"reply+c{complaint.pk}.") and address.endswith("@alpha.test")
    assert (sent.direction, sent.language) == ("out", "zh-hans")
    # The reply was the first response, within its two hours.
    sla = CaseSla.objects.get(case=complaint)
    assert sla.first_response_at == datetime(2026, 3, 10, 9, 30, tzinfo=PARIS)

    case_sla_pause(case=complaint, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 15, 0, tzinfo=PARIS))
    answer = case_reply_receive(
        to=[address.upper()],  # some mail systems shout
        sender="wei@example.cn",
        subject="Re: " + header(mail, "Subject"),
        text="谢谢，现在好了。",
    )
    assert answer is not None and answer.case_id == complaint.pk
    assert list(CaseMessage.objects.filter(case=complaint).values_list("direction", flat=True)) == [
        "out",
        "in",
    ]
    sla = CaseSla.objects.get(case=complaint)
    assert sla.paused_since is None
    # Waiting from 09:30 (the reply) until the answer at 15:00: five and a half hours.
    assert sla.paused_seconds == 5 * 3600 + 1800


def test_forged_and_foreign_addresses_land_nowhere(complaint):
    genuine = reply_address(complaint)
    forged = genuine.replace(f"reply+c{complaint.pk}.", f"reply+c{complaint.pk + 1}.")
    assert case_reply_receive(to=[forged], sender="x@example.com", subject="", text="") is None
    assert case_reply_receive(to=["hello@alpha.test"], sender="x", subject="", text="") is None
    assert CaseMessage.objects.count() == 0


def test_a_reply_needs_a_guest_with_an_address_who_did_not_opt_out(hotels, complaint):
    nobody = case_create(subject="Walk-in", property=hotels["paris"], actor=SYSTEM)
    with pytest.raises(ValidationError) as missing:
        case_reply_send(case=nobody, body="Hello", actor=SYSTEM)
    assert list(missing.value.message_dict) == ["guest"]
    with pytest.raises(ValidationError) as empty:
        case_reply_send(case=complaint, body="  ", actor=SYSTEM)
    assert list(empty.value.message_dict) == ["body"]
    guest_consent_record(
        guest=complaint.guest,
        channel="email",
        purpose="service",
        opted_in=False,
        source="test",
        actor=SYSTEM,
    )
    with pytest.raises(Conflict) as refused:
        case_reply_send(case=complaint, body="Hello", actor=SYSTEM)
    assert refused.value.code == "opted_out"
