"""Password reset e-mails are throttled per address asked for and per client, and the
page answers alike whether or not an account uses the address (hole 11)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db


def reset_page(ip: str = "127.0.0.1") -> Client:
    return Client(HTTP_HOST="alpha.test", REMOTE_ADDR=ip)


def ask(client: Client, email: str):
    return client.post("/password/reset/", {"email": email})


def test_resets_of_one_address_are_throttled(tenant_a, settings):
    settings.ATRIUM_PASSWORD_RESET_PER_ADDRESS = 3
    client = reset_page()
    sent = [ask(client, "admin@alpha.test") for _ in range(3)]
    assert [r.status_code for r in sent] == [302, 302, 302]
    assert len(mail.outbox) == 3

    # The same address in other letters, from elsewhere: still the same address.
    refused = ask(reset_page("203.0.113.5"), "Admin@Alpha.TEST")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.ATRIUM_PASSWORD_RESET_WINDOW_MINUTES * 60
    assert "Too many password reset e-mails" in refused.content.decode()
    assert len(mail.outbox) == 3


def test_the_answer_does_not_tell_whether_an_account_exists(tenant_a, settings):
    settings.ATRIUM_PASSWORD_RESET_PER_ADDRESS = 2
    answers = {}
    for email in ("admin@alpha.test", "nobody@alpha.test"):
        client = reset_page()
        answers[email] = [
            (r.status_code, r.get("Location"), r.get("Retry-After") is not None)
            for r in (ask(client, email) for _ in range(3))
        ]
    assert answers["admin@alpha.test"] == answers["nobody@alpha.test"]
    assert answers["nobody@alpha.test"] == [
        (302, "/password/reset/sent/", False),
        (302, "/password/reset/sent/", False),
        (429, None, True),
    ]
    assert {m.to[0] for m in mail.outbox} == {"admin@alpha.test"}  # only the real account


def test_resets_from_one_client_are_throttled(tenant_a, settings):
    settings.ATRIUM_PASSWORD_RESET_PER_IP = 2
    client = reset_page("198.51.100.9")
    assert ask(client, "a@alpha.test").status_code == 302
    assert ask(client, "b@alpha.test").status_code == 302
    refused = ask(client, "admin@alpha.test")
    assert refused.status_code == 429
    assert mail.outbox == []
    # Another client may still ask for the same address.
    assert ask(reset_page("198.51.100.10"), "admin@alpha.test").status_code == 302
    assert len(mail.outbox) == 1
