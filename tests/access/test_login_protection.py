"""Lockout after repeated failed sign-ins (django-axes, in the tenant's schema), TOTP
two-factor sign-in and enrolment, session and password settings."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from tenants.access.login import login_lockout_reset
from tenants.access.models import AuditEvent, Role
from tenants.access.services import role_update
from tests.conftest import PASSWORD, tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(current_code(device)) + 500000) % 1000000:06d}"


def test_lockout_after_repeated_failures(make_user, alpha):
    user = make_user("front_office")
    client = Client(HTTP_HOST="alpha.test")
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    statuses = [
        client.post(
            "/login/", {"username": user.email, "password": "wrong-password-123"}
        ).status_code
        for _ in range(limit - 1)
    ]
    assert statuses == [200] * (limit - 1)
    locked = client.post("/login/", {"username": user.email, "password": "wrong-password-123"})
    assert locked.status_code == 429
    # Now even the right password is refused, with the lockout page.
    refused = client.post("/login/", {"username": user.email.upper(), "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session

    with schema_context(alpha.schema_name):
        assert AccessAttempt.objects.filter(username=user.email).exists()
        event = AuditEvent.objects.get(action="login_lockout")
        assert event.details["username"] == user.email

        login_lockout_reset(email=user.email)
        assert AuditEvent.objects.filter(action="lockout_reset").exists()
    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302


def test_lockout_stays_in_its_tenant(make_user, alpha, tenant_b):
    user = make_user("front_office")
    client = Client(HTTP_HOST="alpha.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": user.email, "password": "wrong-password-123"})

    with schema_context(tenant_b.schema_name):
        assert not AccessAttempt.objects.exists()
    # Bravo's own admin signs in as usual.
    assert tenant_client(tenant_b).get("/").status_code == 200


def test_two_factor_sign_in_with_a_real_code(make_user, alpha):
    user = make_user("front_office")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client(HTTP_HOST="alpha.test")

    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    # Password alone opens nothing.
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/login/verify/?next=%2F"
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["errors"][0]["code"] == "two_factor_required"

    bad = client.post("/login/verify/", {"token": wrong_code(device), "next": "/"})
    assert bad.status_code == 400 and b"The code is not right" in bad.content
    assert client.get("/").status_code == 302

    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttling_failure_count = 0  # the wrong code above slowed retries down
    device.throttling_failure_timestamp = None
    device.save()
    good = client.post("/login/verify/", {"token": current_code(device), "next": "/"})
    assert good.status_code == 302 and good["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_role_can_require_enrolment(make_user, alpha):
    role_update(role=Role.objects.get(key="front_office"), requires_two_factor=True, actor=SYSTEM)
    user = make_user("front_office")
    client = Client(HTTP_HOST="alpha.test")
    client.post("/login/", {"username": user.email, "password": PASSWORD})

    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/account/two-factor/")
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    with schema_context(alpha.schema_name):
        device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert device.config_url.encode() in page.content.replace(b"&amp;", b"&")

    done = client.post("/account/two-factor/", {"token": current_code(device), "next": "/"})
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    with schema_context(alpha.schema_name):
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert AuditEvent.objects.filter(action="two_factor_enrol", actor=user).exists()


def test_users_without_two_factor_sign_in_with_a_password(alpha):
    assert tenant_client(alpha).get("/").status_code == 200


def test_session_and_csrf_cookies_are_protected():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_password_validation_rejects_short_and_common_passwords():
    with pytest.raises(ValidationError) as info:
        validate_password("Short-pw1")
    assert any("at least 12 characters" in m for m in info.value.messages)
    with pytest.raises(ValidationError):
        validate_password("password1234")
    validate_password("harbour-lights-at-dawn")


def two_factor_user(make_user):
    user = make_user("front_office")
    return user, TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in(client: Client, user) -> None:
    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302


def test_wrong_codes_lock_the_account_like_wrong_passwords(make_user, alpha):
    user, device = two_factor_user(make_user)
    client = Client(HTTP_HOST="alpha.test")
    sign_in(client, user)
    limit = settings.AXES_FAILURE_LIMIT

    codes = [
        client.post("/login/verify/", {"token": wrong_code(device), "next": "/"}).status_code
        for _ in range(limit)
    ]
    assert codes == [400] * (limit - 1) + [429]
    # Signed out, and the password no longer opens anything until the lockout ends.
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    refused = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert AuditEvent.objects.filter(action="two_factor_failure", actor=user).count() == limit
    assert AuditEvent.objects.get(action="login_lockout").details["username"] == user.email


def test_signing_in_again_does_not_wipe_the_failed_codes(make_user, alpha):
    """Password failures and code failures add up, and a right password alone does not
    clear them, or whoever knows it could guess codes without end."""
    user, device = two_factor_user(make_user)
    client = Client(HTTP_HOST="alpha.test")
    for _ in range(2):
        client.post("/login/", {"username": user.email, "password": "wrong-password-123"})
    sign_in(client, user)
    for _ in range(2):
        bad = client.post("/login/verify/", {"token": wrong_code(device), "next": "/"})
        assert bad.status_code == 400
    sign_in(Client(HTTP_HOST="alpha.test"), user)  # a fresh session, same client address
    locked = client.post("/login/verify/", {"token": wrong_code(device), "next": "/"})
    assert locked.status_code == 429


def test_a_right_code_clears_the_failures(make_user, alpha):
    user, device = two_factor_user(make_user)
    client = Client(HTTP_HOST="alpha.test")
    sign_in(client, user)
    client.post("/login/verify/", {"token": wrong_code(device), "next": "/"})
    assert AccessAttempt.objects.filter(username=user.email).exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp slowed retries down after the miss
    device.throttling_failure_timestamp = None
    device.save()
    good = client.post("/login/verify/", {"token": current_code(device), "next": "/"})
    assert good.status_code == 302
    assert not AccessAttempt.objects.filter(username=user.email).exists()


def test_the_password_alone_cannot_enrol_another_device(make_user, alpha):
    user, device = two_factor_user(make_user)
    client = Client(HTTP_HOST="alpha.test")
    sign_in(client, user)

    page = client.get("/account/two-factor/")
    assert page.status_code == 302
    assert page["Location"].startswith("/login/verify/")
    posted = client.post("/account/two-factor/", {"token": "123456", "next": "/"})
    assert posted.status_code == 302 and posted["Location"].startswith("/login/verify/")
    assert list(TOTPDevice.objects.filter(user=user)) == [device]
    assert client.get("/").status_code == 302  # still not signed in


def test_without_a_device_the_password_alone_clears_the_failures(make_user, alpha):
    user = make_user("front_office")
    client = Client(HTTP_HOST="alpha.test")
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        client.post("/login/", {"username": user.email, "password": "wrong-password-123"})
    sign_in(client, user)
    assert not AccessAttempt.objects.filter(username=user.email).exists()
    statuses = [
        Client(HTTP_HOST="alpha.test")
        .post("/login/", {"username": user.email, "password": "wrong-password-123"})
        .status_code
        for _ in range(limit - 1)
    ]
    assert statuses == [200] * (limit - 1)
