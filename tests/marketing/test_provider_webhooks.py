"""Providers' delivery reports through anymail's webhook views: a Mailgun bounce with a
valid signature marks the recipient bounced and suppresses the address; a forged one
is refused and changes nothing; a provider that is not configured is a 404."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from crm.marketing.models import Recipient, Suppression
from crm.marketing.services.delivery import campaign_deliver
from tests.marketing.conftest import campaign_for, opted_in_guest

pytestmark = pytest.mark.django_db
KEY = "mailgun-signing-key"


def _mailgun(event: str, message_id: str, recipient: str, *, key: str = KEY) -> str:
    token, timestamp = "a" * 50, "1767225600"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return json.dumps(
        {
            "signature": {
                "token": token,
                "timestamp": timestamp,
                "signature": signature.hexdigest(),
            },
            "event-data": {
                "event": event,
                "severity": "permanent",
                "timestamp": 1767225600.0,
                "recipient": recipient,
                "reason": "bounce",
                "message": {"headers": {"message-id": message_id.strip("<>")}},
            },
        }
    )


@pytest.fixture
def sent(marketing, smtp, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": KEY}
    guest = opted_in_guest(email="bounce@guest.test")
    campaign = campaign_for([guest])
    campaign_deliver(campaign_id=campaign.pk)
    return Recipient.objects.get(campaign=campaign)


def test_a_signed_bounce_marks_the_recipient_and_suppresses_the_address(sent):
    client = Client(HTTP_HOST="alpha.test")
    body = _mailgun("failed", sent.message_id, "bounce@guest.test")
    response = client.post(
        "/webhooks/mail/mailgun/tracking/", body, content_type="application/json"
    )
    assert response.status_code == 200
    assert Recipient.objects.get(pk=sent.pk).status == "bounced"
    assert Suppression.objects.filter(address="bounce@guest.test", reason="bounced").exists()


def test_a_forged_report_changes_nothing(sent):
    client = Client(HTTP_HOST="alpha.test")
    client.raise_request_exception = False
    forged = _mailgun("complained", sent.message_id, "bounce@guest.test", key="guessed")
    response = client.post(
        "/webhooks/mail/mailgun/tracking/", forged, content_type="application/json"
    )
    assert response.status_code == 400
    assert Recipient.objects.get(pk=sent.pk).status == "sent"
    assert not Suppression.objects.exists()
    unknown = client.post("/webhooks/mail/pigeon/tracking/", "{}", content_type="application/json")
    assert unknown.status_code == 404


def test_a_provider_without_a_verification_takes_no_report(sent, settings):
    """Postmark's reports are verified by basic auth only: without the secret nothing
    is taken, and with it a report without the credentials is refused."""
    client = Client(HTTP_HOST="alpha.test")
    client.raise_request_exception = False
    report = json.dumps(
        {"RecordType": "Bounce", "Type": "HardBounce", "Email": "bounce@guest.test"}
    )
    path = "/webhooks/mail/postmark/tracking/"
    assert client.post(path, report, content_type="application/json").status_code == 404
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    assert client.post(path, report, content_type="application/json").status_code == 400
    assert Recipient.objects.get(pk=sent.pk).status == "sent"
    assert not Suppression.objects.exists()
