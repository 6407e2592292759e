"""The mail provider's inbound hook: a guest's answer posted by Mailgun (raw MIME, its
HMAC signature, basic auth) lands on the case its reply-to address names, once even
when the provider posts it twice; bad signatures, missing auth, an unset provider and a
switched-off module are refused; mail to other addresses is taken and dropped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from email.message import EmailMessage

import pytest
from django.test import Client

from crm.service.models import CaseMessage, CaseSla
from crm.service.services.messages import reply_address
from crm.service.services.sla import case_sla_pause
from crm.services.cases import case_create
from metadata.services.modules import module_set_enabled
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-inbound-test"
SECRET = "mailgun:s3cret-hook"
URL = "/webhooks/mail/mailgun/inbound/"


@pytest.fixture
def hook(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    auth = base64.b64encode(SECRET.encode()).decode()
    return Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Basic {auth}")


@pytest.fixture
def complaint(hotels, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    guest = make_guest(given_name="Ana", surname="Silva", emails=["ana@example.pt"])
    return case_create(
        subject="Cold shower", category="room", guest=guest, property=hotels["paris"], actor=SYSTEM
    )


def _mime(to: str, text: str, message_id: str = "<answer-1@example.pt>") -> str:
    mail = EmailMessage()
    mail["From"] = "Ana Silva <ana@example.pt>"
    mail["To"] = to
    mail["Subject"] = "Re: About your request: Cold shower"
    mail["Message-ID"] = message_id
    mail.set_content(text)
    return mail.as_string()


def _signed(fields: dict, key: str = SIGNING_KEY) -> dict:
    timestamp, token = str(int(time.time())), "t0k3n" * 10
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature.hexdigest()}


def test_the_guests_answer_lands_on_the_case_once_and_restarts_its_clock(hook, complaint, clock):
    case_sla_pause(case=complaint, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=PARIS))
    address = reply_address(complaint)
    body = _signed(
        {
            "recipient": address,
            "sender": "ana@example.pt",
            "body-mime": _mime(address, "Obrigada, já está quente."),
        }
    )
    first = hook.post(URL, body)
    assert first.status_code == 200, first.content
    again = hook.post(URL, body)  # the provider did not see the 200 and retries
    assert again.status_code == 200
    [answer] = CaseMessage.objects.filter(case=complaint)
    assert (answer.direction, answer.address) == ("in", "ana@example.pt")
    assert answer.body.strip() == "Obrigada, já está quente."
    assert answer.message_id == "<answer-1@example.pt>"
    assert CaseSla.objects.get(case=complaint).paused_since is None


def test_forged_signatures_and_missing_auth_are_refused(hook, complaint, settings):
    address = reply_address(complaint)
    fields = {"recipient": address, "body-mime": _mime(address, "hi")}
    assert hook.post(URL, _signed(fields, key="someone-elses-key")).status_code == 400
    anonymous = Client(HTTP_HOST="alpha.test")
    assert anonymous.post(URL, _signed(fields)).status_code == 400
    assert CaseMessage.objects.count() == 0


def test_the_hook_is_shut_until_set_up_and_while_the_module_is_off(hook, complaint, settings):
    address = reply_address(complaint)
    fields = _signed({"recipient": address, "body-mime": _mime(address, "hi")})
    assert hook.post("/webhooks/mail/smoke-signals/inbound/", fields).status_code == 404
    settings.ANYMAIL = {"WEBHOOK_SECRET": "", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    assert hook.post(URL, fields).status_code == 404
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    module_set_enabled(key="service", enabled=False, actor=SYSTEM)
    assert hook.post(URL, fields).status_code == 404
    assert CaseMessage.objects.count() == 0


def test_mail_to_other_addresses_and_forged_reply_addresses_is_dropped(hook, complaint):
    genuine = reply_address(complaint)
    forged = genuine.replace(f"reply+c{complaint.pk}.", f"reply+c{complaint.pk + 7}.")
    for to in ("reservations@alpha.test", forged):
        answer = hook.post(URL, _signed({"recipient": to, "body-mime": _mime(to, "spam")}))
        assert answer.status_code == 200  # taken, so the provider stops retrying
    assert CaseMessage.objects.count() == 0


def test_nul_characters_and_broken_encodings_are_kept_readable(hook, complaint):
    from urllib.parse import urlencode

    address = reply_address(complaint)
    fields = _signed(
        {
            "recipient": address,
            "sender": "ana@example.pt",
            "from": "Ana <ana@example.pt>",
            "To": address,
            "subject": "Re: \x00 ping",
            "body-plain": "line one\x00 line two SURROGATE end",
            "Message-Id": "<parsed-1@example.pt>",
        }
    )
    # A lone surrogate as the bytes a broken mailer writes (not valid UTF-8).
    incomplete = hook.post(URL, urlencode(fields), content_type="application/x-www-form-urlencoded")
    assert incomplete.status_code == 400 and "message-headers" in incomplete.json()["detail"]
    fields["message-headers"] = json.dumps(
        [["From", "Ana <ana@example.pt>"], ["To", address], ["Message-Id", "<parsed-1@x.pt>"]]
    )
    raw = urlencode(fields).replace("SURROGATE", "%ED%B3%BF")
    answer = hook.post(URL, raw, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    [kept] = CaseMessage.objects.filter(case=complaint)
    assert "\x00" not in kept.body and "line two" in kept.body and "end" in kept.body
    assert "\x00" not in kept.subject


@pytest.mark.parametrize(
    ("before", "after"), [("waiting_on_guest", "open"), ("resolved", "reopened")]
)
def test_the_guests_answer_through_the_hook_moves_the_case_status(
    hook, complaint, clock, before, after
):
    from crm.models import Case
    from crm.services.cases import case_update

    case_update(case=complaint, status=before, actor=SYSTEM)
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=PARIS))
    address = reply_address(complaint)
    body = _signed(
        {"recipient": address, "sender": "ana@example.pt", "body-mime": _mime(address, "Hi")}
    )
    assert hook.post(URL, body).status_code == 200
    assert Case.objects.get(pk=complaint.pk).status == after
    sla = CaseSla.objects.get(case=complaint)
    assert sla.paused_since is None and sla.resolved_at is None
    assert sla.reopened_count == (1 if after == "reopened" else 0)
