"""The public site: pricing, and a sign-up that e-mails a signed, expiring link and
provisions a trial tenant only when the administrator follows it and chooses a password.
Anonymous sign-ups are rate-limited; bad input is explained per field and creates
nothing; no page or mail ever shows a password."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail, signing
from django.test import Client

from billing.models import Subscription
from tenants.models import Domain, Tenant

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Lotus Hotels",
    "slug": "lotus",
    "admin_email": "ops@lotus.example",
    "currency": "HKD",
    "languages": "zh-hant, en",
}
CHOSEN = "lotus-ponds-at-dawn-42"


@pytest.fixture(autouse=True)
def _domains(settings):
    settings.ATRIUM_PROVISIONING_DOMAIN_SUFFIX = "atrium.test"


def public(ip: str = "127.0.0.1") -> Client:
    return Client(HTTP_HOST="atrium.test", REMOTE_ADDR=ip)


def link_in(message) -> str:
    """The path of the confirmation link in a sign-up mail."""
    return re.search(r"http://atrium\.test(/signup/confirm/[^/\s]+/)", message.body).group(1)


def test_pricing_lists_the_plans():
    page = public().get("/pricing/").content.decode()
    assert "Starter" in page and "Professional" in page and "Enterprise" in page


def test_sign_up_creates_nothing_until_the_link_is_followed_and_never_shows_a_password():
    client = public()
    sent = client.post("/signup/", GOOD)
    assert sent.status_code == 200
    assert "ops@lotus.example" in sent.content.decode()
    assert not Tenant.objects.filter(slug="lotus").exists()
    assert not Domain.objects.filter(domain="lotus.atrium.test").exists()
    [message] = mail.outbox
    assert message.to == ["ops@lotus.example"]
    assert "Lotus Hotels" in message.subject
    # No one-time password (four groups of four, as provisioning makes them) in the mail.
    assert not re.search(r"\b\w{4}-\w{4}-\w{4}-\w{4}\b", message.body)

    link = link_in(message)
    form = client.get(link)
    assert form.status_code == 200
    page = form.content.decode()
    assert "http://lotus.atrium.test/" in page and 'type="password"' in page
    assert not Tenant.objects.filter(slug="lotus").exists()  # opening the link is not enough

    done = client.post(link, {"password1": CHOSEN, "password2": CHOSEN})
    assert done.status_code == 200
    body = done.content.decode()
    assert "http://lotus.atrium.test/" in body and "ops@lotus.example" in body
    assert CHOSEN not in body and "<code>" not in body
    tenant = Tenant.objects.get(slug="lotus")
    assert tenant.status == "trial" and tenant.base_currency == "HKD"
    assert tenant.default_language == "zh-hant"
    assert Domain.objects.get(tenant=tenant).domain == "lotus.atrium.test"
    subscription = Subscription.objects.get(tenant=tenant)
    assert subscription.status == "trialing" and subscription.trial_end is not None
    # The administrator signs in with the password they chose, not a generated one.
    assert len(mail.outbox) == 1
    workspace = Client(HTTP_HOST="lotus.atrium.test")
    signed_in = workspace.post("/login/", {"username": "ops@lotus.example", "password": CHOSEN})
    assert signed_in.status_code == 302
    assert workspace.get("/").status_code == 200


def test_a_link_followed_twice_provisions_once():
    client = public()
    client.post("/signup/", GOOD)
    link = link_in(mail.outbox[0])
    assert client.post(link, {"password1": CHOSEN, "password2": CHOSEN}).status_code == 200

    again = client.get(link)
    assert again.status_code == 409
    assert "already exists" in again.content.decode()
    replay = client.post(link, {"password1": CHOSEN, "password2": CHOSEN})
    assert replay.status_code == 409
    assert Tenant.objects.filter(slug="lotus").count() == 1
    assert Subscription.objects.filter(tenant__slug="lotus").count() == 1


def test_a_tampered_link_is_refused():
    client = public()
    client.post("/signup/", GOOD)
    link = link_in(mail.outbox[0])
    token = link.split("/")[-2]
    # Another slug signed by nobody: swap a character of the signed payload.
    forged = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    # A genuine signature of another salt (an unsubscribe link, say) is no better.
    foreign = signing.TimestampSigner(salt="something-else").sign_object(
        {"name": "X", "slug": "evil", "email": "x@evil.example", "currency": "EUR"}
    )
    for bad in (forged, foreign, "nonsense"):
        for response in (
            client.get(f"/signup/confirm/{bad}/"),
            client.post(f"/signup/confirm/{bad}/", {"password1": CHOSEN, "password2": CHOSEN}),
        ):
            assert response.status_code == 400
            assert "This link is not valid" in response.content.decode()
    assert not Tenant.objects.filter(slug__in=["lotus", "evil"]).exists()


def test_an_expired_link_is_refused(settings, monkeypatch):
    settings.ATRIUM_SIGNUP_LINK_HOURS = 24
    hours_ago = int(time.time()) - 25 * 60 * 60
    with monkeypatch.context() as patch:
        # The link is signed as if 25 hours ago.
        patch.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(hours_ago)
        )
        public().post("/signup/", GOOD)
    link = link_in(mail.outbox[0])
    response = public().post(link, {"password1": CHOSEN, "password2": CHOSEN})
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert not Tenant.objects.filter(slug="lotus").exists()


@pytest.mark.parametrize(
    "passwords, field_text",
    [
        (("short-1", "short-1"), "at least 12 characters"),
        ((CHOSEN, CHOSEN + "x"), "The two passwords differ"),
        (("ops@lotus.example1", "ops@lotus.example1"), "too similar"),
    ],
)
def test_a_bad_password_names_the_problem_and_creates_nothing(passwords, field_text):
    client = public()
    client.post("/signup/", GOOD)
    link = link_in(mail.outbox[0])
    response = client.post(link, {"password1": passwords[0], "password2": passwords[1]})
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not Tenant.objects.filter(slug="lotus").exists()


@pytest.mark.parametrize(
    "overrides, field_text",
    [
        ({"slug": "Bad Slug!"}, "slug"),
        ({"slug": "alpha"}, "already taken"),
        ({"currency": "XYZ"}, "XYZ"),
        ({"languages": "tlh"}, "tlh"),
        ({"admin_email": "nope"}, "valid email"),
    ],
)
def test_bad_sign_up_names_the_problem_and_leaves_nothing(overrides, field_text):
    before = (Tenant.objects.count(), Subscription.objects.count())
    response = public().post("/signup/", {**GOOD, **overrides})
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert (Tenant.objects.count(), Subscription.objects.count()) == before
    assert mail.outbox == []


def test_sign_ups_from_one_address_are_throttled(settings):
    settings.ATRIUM_SIGNUP_PER_IP_PER_HOUR = 2
    client = public("203.0.113.7")
    codes = [
        client.post(
            "/signup/", {**GOOD, "slug": f"lotus{i}", "admin_email": f"a{i}@x.example"}
        ).status_code
        for i in range(2)
    ]
    assert codes == [200, 200]
    refused = client.post("/signup/", {**GOOD, "slug": "lotus9", "admin_email": "b@x.example"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many sign-ups from your network" in refused.content.decode()
    assert len(mail.outbox) == 2
    # Another client still gets through.
    assert public("198.51.100.1").post("/signup/", GOOD).status_code == 200


def test_sign_ups_for_one_e_mail_address_are_throttled(settings):
    settings.ATRIUM_SIGNUP_PER_ADDRESS_PER_HOUR = 1
    assert public("203.0.113.1").post("/signup/", GOOD).status_code == 200
    # Someone flooding a victim's inbox from elsewhere: one more mail is refused.
    refused = public("203.0.113.2").post("/signup/", {**GOOD, "slug": "lotus2"})
    assert refused.status_code == 429
    assert "Too many sign-ups for now" in refused.content.decode()
    assert len(mail.outbox) == 1


def test_sign_ups_of_the_whole_platform_are_throttled(settings):
    settings.ATRIUM_SIGNUP_PER_HOUR = 2
    for i in range(2):
        response = public(f"203.0.113.{i + 1}").post(
            "/signup/", {**GOOD, "slug": f"lotus{i}", "admin_email": f"a{i}@x.example"}
        )
        assert response.status_code == 200
    refused = public("203.0.113.9").post(
        "/signup/", {**GOOD, "slug": "lotus9", "admin_email": "c@x.example"}
    )
    assert refused.status_code == 429
    # Confirming a link counts too: the platform's budget is spent, nothing is provisioned.
    link = link_in(mail.outbox[0])
    blocked = public("203.0.113.1").post(link, {"password1": CHOSEN, "password2": CHOSEN})
    assert blocked.status_code == 429
    assert not Tenant.objects.filter(slug="lotus0").exists()
