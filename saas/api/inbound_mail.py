"""The mail provider's inbound hook: guests' answers to case replies come back here.

Each group's mail domain routes to its own host (``https://<group domain>/webhooks/mail/
<provider>/inbound/``), so the tenant is the request's, like every other door. The
provider's own request check runs through django-anymail (basic auth from
``ANYMAIL_WEBHOOK_SECRET`` on every provider, and Mailgun's HMAC signature with
``MAILGUN_WEBHOOK_SIGNING_KEY``); anymail hands the parsed message to the service desk
through its ``inbound`` signal. The hook answers 404 while the provider is not set up
or the service module is off, and 400 to a request that fails the provider's check."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

PROVIDERS = ("mailgun", "postmark", "sendgrid")


def _configured(provider: str) -> bool:
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    if not anymail.get("WEBHOOK_SECRET"):
        # Basic auth is the one check Postmark and SendGrid offer: never an open door.
        return False
    if provider == "mailgun":
        return bool(anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY"))
    return True


def _view(provider: str):
    if provider == "mailgun":
        from anymail.webhooks.mailgun import MailgunInboundWebhookView

        return MailgunInboundWebhookView.as_view()
    if provider == "postmark":
        from anymail.webhooks.postmark import PostmarkInboundWebhookView

        return PostmarkInboundWebhookView.as_view()
    from anymail.webhooks.sendgrid import SendGridInboundWebhookView

    return SendGridInboundWebhookView.as_view()


@csrf_exempt
def inbound_mail(request: HttpRequest, provider: str) -> HttpResponse:
    from crm.service.apps import module_on

    if provider not in PROVIDERS or not _configured(provider) or not module_on():
        return JsonResponse({"detail": "No inbound mail hook here."}, status=404)
    if request.method not in ("POST", "HEAD"):
        return JsonResponse({"detail": "POST the message."}, status=405)
    from anymail.exceptions import AnymailError

    try:
        return _view(provider)(request)
    except (KeyError, ValueError, AnymailError) as exc:
        # A genuine request (its check passed) that does not hold a message the provider's
        # way, e.g. Mailgun's parsed form without ``message-headers``: the sender's fault.
        name = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
        detail = f"The message lacks {name!r}." if name else "The message cannot be read."
        return JsonResponse({"detail": detail}, status=400)
