"""Forms of the guest profile beyond its fields: e-mails and phones (add, remove, make
primary), preferences (set, clear), consent per channel and purpose, and the privacy
tools (export as JSON or a zip of JSON and CSV files, erase) for administrators.

Each view checks the guest as the API does (the right, then the guest within the user's
hotels: a 404 alike for absent and out of reach), calls one service of
``crm.services.guests`` / ``crm.services.privacy`` and goes back to the profile with the
service's message; bad input is a message next to the section, never a server error."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.models import Guest, GuestEmail, GuestPhone, GuestPreference, Property
from crm.selectors.guests import guest_get
from crm.services.guests import (
    guest_consent_record,
    guest_email_add,
    guest_email_remove,
    guest_email_set_primary,
    guest_phone_add,
    guest_phone_remove,
    guest_phone_set_primary,
    guest_preference_clear,
    guest_preference_set,
)
from crm.services.privacy import guest_erase, guest_export, guest_export_archive
from metadata.selectors.records import record_for
from saas.ui.errors import errors_by_field
from tenants.access.principal import Principal
from tenants.context import current_zone as tenant_zone
from tenants.errors import ApplicationError, NotFound


def _guest(request, guest_id: int, action: str = "edit") -> tuple[Principal, Guest]:
    actor = Principal.from_request(request)
    try:
        record_for(actor=actor, object_api_name="guest", record_id=guest_id, action=action)
    except NotFound:
        raise Http404(_("There is no such guest.")) from None
    return actor, guest_get(guest_id=guest_id)


def has_nul(post) -> bool:
    """PostgreSQL text refuses NUL characters: such a form is refused before any write."""
    return any("\x00" in value for values in post.lists() for value in values[1])


def _nul_refused(request, guest: Guest, anchor: str):
    if not has_nul(request.POST):
        return None
    messages.error(request, _("Text cannot contain NUL characters."))
    return redirect(f"/guests/{guest.pk}/#{anchor}")


def _item(model, guest: Guest, raw: str):
    found = (
        model.objects.filter(guest_id=guest.pk, pk=int(raw)).first()
        if raw.isdecimal() and int(raw) < 2**63
        else None
    )
    if found is None:
        raise Http404(_("There is no such entry on this profile."))
    return found


def _run(request, guest: Guest, anchor: str, call, done: str):
    """Call the service; its refusals of input become messages on the profile."""
    try:
        call()
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(f"/guests/{guest.pk}/#{anchor}")


@login_required
@require_POST
def guest_contacts_view(request, guest_id: int):
    """E-mails and phones: ``action`` is add_email, remove_email, primary_email,
    add_phone, remove_phone or primary_phone."""
    actor, guest = _guest(request, guest_id)
    refused = _nul_refused(request, guest, "contacts-h")
    if refused:
        return refused
    action = request.POST.get("action", "")
    item = request.POST.get("item", "")
    post = request.POST
    calls: dict[str, tuple[Callable[[], object], str]] = {
        "add_email": (
            lambda: guest_email_add(
                guest=guest,
                email=post.get("email", "").strip(),
                kind=post.get("kind") if post.get("kind") in ("personal", "work") else "other",
                primary=post.get("primary") == "1",
                actor=actor,
            ),
            _("E-mail address added."),
        ),
        "add_phone": (
            lambda: guest_phone_add(
                guest=guest,
                number=post.get("number", "").strip(),
                kind=post.get("kind")
                if post.get("kind") in ("mobile", "home", "work")
                else "other",
                primary=post.get("primary") == "1",
                actor=actor,
            ),
            _("Phone number added."),
        ),
    }
    if action in ("remove_email", "primary_email"):
        row = _item(GuestEmail, guest, item)
        calls[action] = (
            (lambda: guest_email_remove(guest_email=row, actor=actor), _("E-mail address removed."))
            if action == "remove_email"
            else (
                lambda: guest_email_set_primary(guest_email=row, actor=actor),
                _("Primary e-mail address changed."),
            )
        )
    elif action in ("remove_phone", "primary_phone"):
        phone = _item(GuestPhone, guest, item)
        calls[action] = (
            (lambda: guest_phone_remove(guest_phone=phone, actor=actor), _("Phone number removed."))
            if action == "remove_phone"
            else (
                lambda: guest_phone_set_primary(guest_phone=phone, actor=actor),
                _("Primary phone number changed."),
            )
        )
    if action not in calls:
        messages.error(request, _("Choose what to do with the contact details."))
        return redirect(f"/guests/{guest.pk}/#contacts-h")
    call, done = calls[action]
    return _run(request, guest, "contacts-h", call, done)


@login_required
@require_POST
def guest_preferences_view(request, guest_id: int):
    """Set a preference (``group``, ``code``, ``note``, optionally a hotel) or clear one
    (``action=clear``, ``item``)."""
    actor, guest = _guest(request, guest_id)
    refused = _nul_refused(request, guest, "preferences-h")
    if refused:
        return refused
    post = request.POST
    if post.get("action") == "clear":
        preference = _item(GuestPreference, guest, post.get("item", ""))
        return _run(
            request,
            guest,
            "preferences-h",
            lambda: guest_preference_clear(preference=preference, actor=actor),
            _("Preference removed."),
        )
    hotel = None
    raw = post.get("property", "")
    if raw:
        hotel = (
            actor.scope("property", Property.objects.all()).filter(pk=int(raw)).first()
            if raw.isdecimal() and int(raw) < 2**63
            else None
        )
        if hotel is None:
            messages.error(request, _("Choose one of your hotels, or every hotel."))
            return redirect(f"/guests/{guest.pk}/#preferences-h")
    return _run(
        request,
        guest,
        "preferences-h",
        lambda: guest_preference_set(
            guest=guest,
            group=post.get("group", ""),
            code=post.get("code", ""),
            note=post.get("note", "").strip(),
            property=hotel,
            actor=actor,
        ),
        _("Preference saved."),
    )


def local_moment(raw: str) -> datetime | None | Literal[False]:
    """A ``datetime-local`` value typed in the tenant's zone: None when empty, False
    when it is not a date and time (of years 1900-2999)."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if not 1900 <= moment.year <= 2999:
            raise ValueError(raw)
    except ValueError:
        return False
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tenant_zone())


def _moment(raw: str) -> tuple[datetime | None, str | None]:
    """A time typed in the tenant's zone (``datetime-local``), never in the future."""
    moment = local_moment(raw)
    if moment is None:
        return None, None
    if not isinstance(moment, datetime):
        return None, _("Give the time as a date and time.")
    if moment > timezone.now() + timedelta(minutes=5):
        return None, _("A consent cannot be recorded in the future.")
    return moment, None


@login_required
@require_POST
def guest_consent_view(request, guest_id: int):
    """Record an opt-in or opt-out for one channel and purpose, with its source."""
    actor, guest = _guest(request, guest_id)
    refused = _nul_refused(request, guest, "consent-h")
    if refused:
        return refused
    post = request.POST
    choice = post.get("opted_in", "")
    if choice not in ("yes", "no"):
        messages.error(request, _("Choose opt-in or opt-out."))
        return redirect(f"/guests/{guest.pk}/#consent-h")
    when, problem = _moment(post.get("recorded_at", "").strip())
    if problem:
        messages.error(request, problem)
        return redirect(f"/guests/{guest.pk}/#consent-h")
    return _run(
        request,
        guest,
        "consent-h",
        lambda: guest_consent_record(
            guest=guest,
            channel=post.get("channel", ""),
            purpose=post.get("purpose", ""),
            opted_in=choice == "yes",
            source=post.get("source", "").strip(),
            recorded_at=when,
            actor=actor,
        ),
        _("Consent recorded."),
    )


@login_required
@require_GET
def guest_export_view(request, guest_id: int):
    """Everything held on the guest, as JSON or a zip of JSON and CSV files
    (administrators; logged as a privacy request)."""
    actor = Principal.from_request(request)
    actor.require_admin("export a guest's personal data")
    actor, guest = _guest(request, guest_id, "view")
    data = guest_export(guest=guest, actor=actor, reason="Exported from the profile")
    if request.GET.get("file_format") == "zip":
        response = HttpResponse(guest_export_archive(data=data), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="guest-{guest.pk}.zip"'
        return response
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="guest-{guest.pk}.json"'
    return response


@login_required
@require_POST
def guest_erase_view(request, guest_id: int):
    """Erase the guest (administrators), once the confirmation box is ticked."""
    actor = Principal.from_request(request)
    actor.require_admin("erase a guest's personal data")
    actor, guest = _guest(request, guest_id, "view")
    refused = _nul_refused(request, guest, "privacy-h")
    if refused:
        return refused
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the box to confirm: erasure cannot be undone."))
        return redirect(f"/guests/{guest.pk}/#privacy-h")
    return _run(
        request,
        guest,
        "privacy-h",
        lambda: guest_erase(guest=guest, actor=actor, reason=request.POST.get("reason", "")[:200]),
        _("The guest's personal data was erased."),
    )
