"""The doors a campaign's recipients reach without signing in, each through a token
signed for this hotel group's schema: a forged token, or one of another hotel group, is
a 404 that says nothing of any guest or campaign.

* ``GET /m/o/<token>.gif``: the open pixel (a 1x1 GIF, whatever the token).
* ``GET /m/c/<token>/``: a click; redirects only to a link of the message the token's
  recipient was sent (never an open redirect).
* ``GET /m/u/<token>/``: asks to confirm (mail scanners follow links, they do not post);
  ``POST`` unsubscribes: the page's button and RFC 8058 one-click
  (``List-Unsubscribe=One-Click``, sent by mail providers without a CSRF token)."""

from __future__ import annotations

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from crm.marketing.services.delivery import click_record, open_record, token_read, unsubscribe

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_GET
def open_pixel(request, token: str):
    data = token_read(token, "o")
    if data is not None:
        open_record(recipient_id=data["r"])
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def click(request, token: str):
    data = token_read(token, "c")
    url = click_record(recipient_id=data["r"], url=str(data.get("u") or "")) if data else None
    if url is None:
        raise Http404("This link is not valid.")
    return HttpResponseRedirect(url)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request, token: str):
    data = token_read(token, "u")
    if data is None:
        return render(request, "unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        if unsubscribe(recipient_id=data["r"]) is None:
            return render(request, "unsubscribe.html", {"invalid": True}, status=404)
        done = True
    return render(
        request, "unsubscribe.html", {"done": done, "purpose": "marketing", "channel": "e-mail"}
    )


# Providers whose tracking webhooks are accepted, by the name in the URL.
ESP_TRACKING_VIEWS = {
    "mailgun": "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
    "postmark": "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
    "sendgrid": "anymail.webhooks.sendgrid.SendGridTrackingWebhookView",
    "amazon_ses": "anymail.webhooks.amazon_ses.AmazonSESTrackingWebhookView",
    "brevo": "anymail.webhooks.brevo.BrevoTrackingWebhookView",
}


# Providers whose reports anymail verifies by their signature, with the setting of the key.
ESP_SIGNING_KEYS = {
    "mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY",
    "sendgrid": "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
}


@csrf_exempt
def esp_tracking(request, esp: str):
    """A provider's delivery report, through anymail's view for that provider (which
    verifies its signature or basic auth: a forged report is a 400 and changes nothing).
    A provider the platform is not configured for is a 404."""
    from anymail.exceptions import AnymailConfigurationError
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = ESP_TRACKING_VIEWS.get(esp)
    if path is None:
        raise Http404("No such provider.")
    # anymail only warns when a webhook has no basic auth; an unauthenticated report
    # could suppress any address, so one is taken only when something verifies it: the
    # basic-auth secret, or the provider's own signing key.
    configured = getattr(settings, "ANYMAIL", {}) or {}
    key = ESP_SIGNING_KEYS.get(esp)
    if not configured.get("WEBHOOK_SECRET") and not (key and configured.get(key)):
        raise Http404("This provider is not configured.")
    try:
        return import_string(path).as_view()(request)
    except AnymailConfigurationError:
        raise Http404("This provider is not configured.") from None
