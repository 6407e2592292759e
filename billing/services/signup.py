"""Sign-up on the public site, in two steps, so nothing is provisioned for an address
nobody answers at and nothing secret ever appears on a page or in a mail:

1. ``signup_request`` checks the request as provisioning would and e-mails a signed,
   expiring link to the administrator's address. The request travels inside the link
   (``TimestampSigner``), so nothing is stored for requests that are never confirmed.
2. ``signup_complete``, reached only through that link, provisions the hotel group in a
   trial with the password the administrator chooses on the linked page.

A link followed twice finds its subdomain taken and provisions nothing. Anonymous
callers are rate-limited at both steps (``tenants.ratelimit``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from billing.services.stripe_sync import subscription_start_trial
from tenants.errors import ApplicationError, Conflict
from tenants.models import Tenant
from tenants.ratelimit import Limit, limits_require
from tenants.services.provisioning import ProvisionedTenant, tenant_create, tenant_create_check

SALT = "atrium.billing.signup"
HOUR = 60 * 60


class SignupLinkInvalid(ApplicationError):
    default_code = "link_invalid"


class SignupMailFailed(ApplicationError):
    status_code = 503
    default_code = "mail_failed"


def _domain_for(slug: str) -> str:
    return f"{slug}.{settings.ATRIUM_PROVISIONING_DOMAIN_SUFFIX}"


def signup_url_for(domain: str) -> str:
    """Where the new workspace answers."""
    return f"{settings.ATRIUM_URL_SCHEME}://{domain}/"


def _check(*, name: str, slug: str, admin_email: str, currency: str, languages: list[str]):
    """Provisioning's own checks, with errors keyed by the sign-up form's fields."""
    slug = (slug or "").strip().lower()
    try:
        return tenant_create_check(
            name=name,
            slug=slug,
            domain=_domain_for(slug),
            admin_email=admin_email,
            currency=(currency or "").strip().upper(),
            languages=languages,
            status=Tenant.Status.TRIAL,
        )
    except ValidationError as exc:
        errors = dict(exc.message_dict)
        domain_errors = errors.pop("domain", [])
        # The domain is made of the slug: its errors belong there, once.
        if domain_errors and "slug" not in errors:
            errors["slug"] = domain_errors
        raise ValidationError(errors) from None


def _ip_limit(client_ip: str) -> Limit:
    return Limit("signup-ip", client_ip, settings.ATRIUM_SIGNUP_PER_IP_PER_HOUR, HOUR)


def _platform_limit() -> Limit:
    return Limit("signup-all", "platform", settings.ATRIUM_SIGNUP_PER_HOUR, HOUR)


def signup_request(
    *,
    name: str,
    slug: str,
    admin_email: str,
    currency: str,
    languages: list[str],
    client_ip: str,
    confirm_url: Callable[[str], str],
) -> str:
    """Check a sign-up and e-mail the confirmation link (``confirm_url(token)``) to the
    administrator's address, which it returns. Creates nothing.

    Raises ``ValidationError`` keyed by form field, or ``RateLimited`` (429)."""
    limits_require(
        [_ip_limit(client_ip)],
        _("Too many sign-ups from your network. Try again in %(minutes)s minutes."),
    )
    values = _check(
        name=name, slug=slug, admin_email=admin_email, currency=currency, languages=languages
    )
    limits_require(
        [
            Limit(
                "signup-address",
                values["admin_email"],
                settings.ATRIUM_SIGNUP_PER_ADDRESS_PER_HOUR,
                HOUR,
            ),
            _platform_limit(),
        ],
        _("Too many sign-ups for now. Try again in %(minutes)s minutes."),
    )
    token = signing.TimestampSigner(salt=SALT).sign_object(
        {
            "name": values["name"],
            "slug": values["slug"],
            "email": values["admin_email"],
            "currency": values["currency"],
            "languages": values["languages"],
        },
        compress=True,
    )
    context = {
        "name": values["name"],
        "link": confirm_url(token),
        "hours": settings.ATRIUM_SIGNUP_LINK_HOURS,
        "address": signup_url_for(values["domain"]),
    }
    try:
        send_mail(
            subject=render_to_string("billing/signup_email_subject.txt", context).strip(),
            message=render_to_string("billing/signup_email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[values["admin_email"]],
        )
    except OSError as exc:  # smtplib's errors are OSErrors too
        raise SignupMailFailed(
            _("The e-mail with your link could not be sent just now. Try again in a few minutes.")
        ) from exc
    return values["admin_email"]


def signup_token_read(token: str) -> dict:
    """The request a confirmation link carries, or ``SignupLinkInvalid`` saying why."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=settings.ATRIUM_SIGNUP_LINK_HOURS * HOUR
        )
    except signing.SignatureExpired:
        raise SignupLinkInvalid(
            _(
                "This link has expired: links stay valid for %(hours)s hours. "
                "Sign up again to get a new one."
            )
            % {"hours": settings.ATRIUM_SIGNUP_LINK_HOURS},
            code="link_expired",
            field="token",
        ) from None
    except (signing.BadSignature, ValueError):
        # ValueError: a token that verifies but does not decode (cannot be forged without
        # the key, but a damaged one should still be answered, not crash).
        raise SignupLinkInvalid(
            _(
                "This link is not valid: it was changed or cut short. Open the link from "
                "the e-mail again, or sign up again."
            ),
            field="token",
        ) from None
    data["domain"] = _domain_for(data["slug"])
    data["url"] = signup_url_for(data["domain"])
    return data


def _already_created(data: dict) -> Conflict:
    return Conflict(
        _(
            "The workspace %(url)s already exists: this link was used before, or the "
            "subdomain was taken since. Sign in there, or sign up again with another "
            "subdomain."
        )
        % {"url": data["url"]},
        code="already_created",
        field="token",
    )


def signup_link_open(token: str) -> dict:
    """The request of a confirmation link that can still create its workspace; raises
    ``SignupLinkInvalid`` or ``Conflict`` when its workspace exists already."""
    data = signup_token_read(token)
    if Tenant.objects.filter(slug=data["slug"]).exists():
        raise _already_created(data)
    return data


def signup_complete(
    *, token: str, password1: str, password2: str, client_ip: str
) -> ProvisionedTenant:
    """Provision the hotel group of a confirmation link, its administrator signing in
    with the password chosen here. Raises ``SignupLinkInvalid``, ``Conflict`` (already
    created), ``ValidationError`` (the passwords) or ``RateLimited``."""
    data = signup_link_open(token)
    if not password1:
        raise ValidationError({"password1": _("Choose a password.")})
    if password1 != password2:
        raise ValidationError({"password2": _("The two passwords differ.")})
    try:
        # An unsaved account, so the similarity check compares with the e-mail address.
        validate_password(password1, user=get_user_model()(email=data["email"]))
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from None
    limits_require(
        [_ip_limit(client_ip), _platform_limit()],
        _("Too many sign-ups for now. Try again in %(minutes)s minutes."),
    )
    try:
        result = tenant_create(
            name=data["name"],
            slug=data["slug"],
            domain=data["domain"],
            admin_email=data["email"],
            currency=data["currency"],
            languages=data["languages"],
            status=Tenant.Status.TRIAL,
            admin_password=password1,
            send_welcome_email=False,
        )
    except ValidationError as exc:
        if "slug" in exc.message_dict or "domain" in exc.message_dict:
            # Followed twice at once, or the subdomain was taken since the request.
            raise _already_created(data) from None
        raise
    subscription_start_trial(tenant=result.tenant)
    return result
