"""Campaign delivery through a real SMTP server: each recipient once, in their language,
with the RFC 8058 headers; consent, suppression and the frequency cap enforced; a
worker dying mid-chunk leaves nothing sent twice or lost; A/B sends the winner."""

from __future__ import annotations

import re
from email.message import Message

import pytest
from django.test import Client

from crm.marketing.models import Campaign, Recipient, Suppression
from crm.marketing.services import delivery
from crm.marketing.services.campaigns import ab_decide, campaign_cancel, campaign_pause
from crm.marketing.services.delivery import campaign_deliver, open_record
from crm.selectors.guests import guest_consent_state
from crm.services.guests import guest_consent_record
from tests.crm.factories import make_guest
from tests.marketing.conftest import campaign_for, opted_in_guest
from tests.principals import SYSTEM
from tests.workflows.smtp import header

pytestmark = pytest.mark.django_db


def _parts(message: Message) -> dict[str, str]:
    out = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            out[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return out


def _to(inbox) -> list[str]:
    return sorted(m["X-Envelope-To"] for m in inbox.messages)


def test_each_consenting_recipient_gets_one_message_in_their_language(marketing, smtp):
    mei = opted_in_guest(
        given_name="Mei", surname="Chen", email="mei@guest.test", language="zh-hans"
    )
    ana = opted_in_guest(given_name="Ana", surname="Silva", email="ana@guest.test", language="de")
    never_asked = make_guest(surname="Quiet", emails=["quiet@guest.test"])
    withdrew = opted_in_guest(surname="Gone", email="gone@guest.test")
    guest_consent_record(
        guest=withdrew, channel="email", purpose="marketing", opted_in=False, actor=SYSTEM
    )
    bounced = opted_in_guest(surname="Bounce", email="Bounce@Guest.test")
    delivery.suppress(channel="email", address="bounce@guest.test", reason="bounced")
    no_address = opted_in_guest(surname="Nomail")

    campaign = campaign_for([mei, ana, never_asked, withdrew, bounced, no_address])
    first = campaign_deliver(campaign_id=campaign.pk)
    again = campaign_deliver(campaign_id=campaign.pk)

    assert (first["sent"], first["skipped"], again["sent"]) == (2, 4, 0)
    assert _to(smtp) == ["ana@guest.test", "mei@guest.test"]
    by_to = {m["X-Envelope-To"]: m for m in smtp.messages}
    assert header(by_to["mei@guest.test"], "Subject") == "Chen，春季优惠"
    # Ana reads German, which the template lacks: the group's default, English.
    assert header(by_to["ana@guest.test"], "Subject") == "Spring at Ana's favourite hotel"
    reasons = dict(Recipient.objects.filter(campaign=campaign).values_list("guest_id", "reason"))
    assert reasons == {
        mei.pk: "",
        ana.pk: "",
        never_asked.pk: "no consent",
        withdrew.pk: "no consent",
        bounced.pk: "suppressed",
        no_address.pk: "no email address",
    }
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


def test_the_message_has_rfc_8058_headers_and_a_one_click_post_unsubscribes(marketing, smtp):
    guest = opted_in_guest(given_name="Ana", email="ana@guest.test")
    campaign = campaign_for([guest])
    campaign_deliver(campaign_id=campaign.pk)
    (message,) = smtp.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # (A long header is folded over lines; unfolded it is one <URL>.)
    link = re.fullmatch(r"<(https?://[^>]+)>", re.sub(r"\s+", "", message["List-Unsubscribe"]))
    assert link is not None
    parts = _parts(message)
    assert link.group(1) in parts["text/plain"]
    assert "Three nights for two" in parts["text/html"]  # the preheader

    path = re.sub(r"^https?://[^/]+", "", link.group(1))
    client = Client(HTTP_HOST="alpha.test")
    assert client.get(path).status_code == 200  # asks, changes nothing
    assert guest_consent_state(guest_id=guest.pk, channel="email", purpose="marketing") is True
    posted = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert posted.status_code == 200
    assert guest_consent_state(guest_id=guest.pk, channel="email", purpose="marketing") is False
    assert Suppression.objects.filter(address="ana@guest.test", reason="unsubscribed").exists()
    assert Recipient.objects.get(campaign=campaign).status == "unsubscribed"

    # Imported again as a new profile that claims an opt-in: still never sent to.
    again = opted_in_guest(given_name="Ana", surname="Again", email="ANA@guest.test")
    second = campaign_for([again], name="Summer")
    assert campaign_deliver(campaign_id=second.pk)["sent"] == 0
    assert len(smtp.messages) == 1
    assert Recipient.objects.get(campaign=second).reason == "suppressed"


def test_a_click_redirects_only_to_a_link_of_the_message(marketing, smtp, tenant_b):
    guest = opted_in_guest(email="click@guest.test")
    campaign = campaign_for([guest])
    campaign_deliver(campaign_id=campaign.pk)
    html = _parts(smtp.messages[0])["text/html"]
    tracked = re.search(r'href="(https?://[^"]+/m/c/[^"]+)"', html)
    assert tracked is not None and "hotel.example" not in tracked.group(1)
    client = Client(HTTP_HOST="alpha.test")
    path = re.sub(r"^https?://[^/]+", "", tracked.group(1).replace("&amp;", "&"))
    followed = client.get(path)
    assert followed.status_code == 302
    assert followed["Location"] == "https://hotel.example/spring?a=1&b=2"
    recipient = Recipient.objects.get(campaign=campaign)
    assert recipient.status == "clicked" and recipient.clicked_at and recipient.opened_at

    # A genuine signature on a URL that is not in the message: refused.
    evil = delivery.token_make("c", recipient.pk, "https://evil.example/")
    assert client.get(f"/m/c/{evil}/").status_code == 404
    # A forged token, and an open token used as a click: refused.
    assert client.get(f"/m/c/{path.split('/')[3][:-3]}xyz/").status_code == 404
    opener = delivery.token_make("o", recipient.pk)
    assert client.get(f"/m/c/{opener}/").status_code == 404
    # The same token presented at another hotel group's domain: refused.
    assert Client(HTTP_HOST="bravo.test").get(path).status_code == 404


def test_the_frequency_cap_holds_back_a_second_campaign(marketing, smtp):
    guest = opted_in_guest(email="often@guest.test")
    first = campaign_for([guest], name="First")
    assert campaign_deliver(campaign_id=first.pk)["sent"] == 1
    second = campaign_for([guest], name="Second", frequency_cap_days=7)
    assert campaign_deliver(campaign_id=second.pk) == {
        "sent": 0,
        "skipped": 1,
        "failed": 0,
        "retry": 0,
    }
    assert Recipient.objects.get(campaign=second).reason == "frequency cap"


class _DiesAfter:
    """A mail connection whose worker dies (BaseException, as a SIGKILL would stop it
    mid-transaction) when sending its n-th message."""

    def __init__(self, real, n: int):
        self.real, self.n, self.count = real, n, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def send_messages(self, messages):
        self.count += 1
        if self.count == self.n:
            raise SystemExit("worker killed")
        return self.real.send_messages(messages)


def test_a_worker_dying_mid_chunk_loses_nothing_and_sends_nothing_twice(
    marketing, smtp, monkeypatch
):
    guests = [opted_in_guest(email=f"g{n}@guest.test") for n in range(12)]
    campaign = campaign_for(guests)
    real = delivery.get_connection
    monkeypatch.setattr(delivery, "get_connection", lambda **kw: _DiesAfter(real(**kw), 5))
    with pytest.raises(SystemExit):
        campaign_deliver(campaign_id=campaign.pk)
    assert len(smtp.messages) == 4
    assert Recipient.objects.filter(campaign=campaign, status="sent").count() == 4
    monkeypatch.setattr(delivery, "get_connection", real)
    campaign_deliver(campaign_id=campaign.pk)
    assert _to(smtp) == sorted(f"g{n}@guest.test" for n in range(12))
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


def test_pause_stops_and_cancel_skips_what_is_queued(marketing, smtp):
    guests = [opted_in_guest(email=f"p{n}@guest.test") for n in range(3)]
    campaign = campaign_for(guests)
    campaign_pause(campaign=campaign, actor=SYSTEM)
    assert campaign_deliver(campaign_id=campaign.pk)["sent"] == 0
    campaign_cancel(campaign=campaign, actor=SYSTEM)
    assert set(Recipient.objects.filter(campaign=campaign).values_list("reason", flat=True)) == {
        "cancelled"
    }
    assert smtp.messages == []


def test_ab_sends_the_sample_then_the_winning_subject_to_the_rest(marketing, smtp):
    guests = [opted_in_guest(given_name="Ana", email=f"ab{n}@guest.test") for n in range(40)]
    campaign = campaign_for(guests, ab_sample_percent=50, subject_b={"en": "B: a room is waiting"})
    rows = Recipient.objects.filter(campaign=campaign)
    sample = {v: rows.filter(variant=v).count() for v in ("a", "b", "")}
    assert sample["a"] and sample["b"] and sample[""]
    assert sample["a"] + sample["b"] + sample[""] == 40
    campaign_deliver(campaign_id=campaign.pk)
    assert len(smtp.messages) == sample["a"] + sample["b"]
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"  # the rest waits
    for recipient in rows.filter(variant="b"):
        open_record(recipient_id=recipient.pk)
    assert ab_decide(campaign_id=campaign.pk, force=True) == "b"
    waiting = {f"ab{n}@guest.test" for n in range(40)} - {m["X-Envelope-To"] for m in smtp.messages}
    campaign_deliver(campaign_id=campaign.pk)
    rest = [m for m in smtp.messages if m["X-Envelope-To"] in waiting]
    assert len(rest) == sample[""] and len(smtp.messages) == 40
    assert {header(m, "Subject") for m in rest} == {"B: a room is waiting"}
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"
