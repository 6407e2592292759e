"""Status actions of the reservation screen: confirm, check in, check out, cancel with a
reason, no-show, and reinstate (undo a check-in, a cancellation or a no-show); charges
and payments posted to the folio. Each goes through ``crm.services.reservations``, so
guest statistics, the audit trail, webhooks and workflows follow as they do for the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.models import Reservation
from crm.selectors.operations import reservation_get
from crm.services.reservations import (
    folio_line_add,
    payment_add,
    reservation_cancel,
    reservation_confirm,
    reservation_status_change,
)
from saas.ui.errors import errors_by_field
from saas.ui.guest_profile import has_nul
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, NotFound

Status = Reservation.Status

# action: (label, done message, the statuses it is offered in)
ACTIONS = {
    "confirm": (
        gettext_lazy("Confirm"),
        gettext_lazy("Reservation confirmed."),
        (Status.RESERVED,),
    ),
    "check_in": (gettext_lazy("Check in"), gettext_lazy("Guest checked in."), (Status.RESERVED,)),
    "check_out": (
        gettext_lazy("Check out"),
        gettext_lazy("Guest checked out."),
        (Status.IN_HOUSE,),
    ),
    "no_show": (gettext_lazy("No-show"), gettext_lazy("Marked as a no-show."), (Status.RESERVED,)),
    "cancel": (
        gettext_lazy("Cancel reservation"),
        gettext_lazy("Reservation cancelled."),
        (Status.RESERVED,),
    ),
    "reinstate": (
        gettext_lazy("Back to reserved"),
        gettext_lazy("The reservation is reserved again."),
        (Status.IN_HOUSE, Status.CANCELLED, Status.NO_SHOW),
    ),
}
TARGETS = {
    "check_in": Status.IN_HOUSE,
    "check_out": Status.CHECKED_OUT,
    "no_show": Status.NO_SHOW,
    "reinstate": Status.RESERVED,
}


def actions_for(reservation: Reservation) -> list[dict]:
    """The buttons the screen offers for the booking's status (the service still decides)."""
    offered = []
    for key, (label, _done, statuses) in ACTIONS.items():
        if reservation.status not in statuses:
            continue
        if key == "confirm" and reservation.confirmed_at is not None:
            continue
        offered.append({"key": key, "label": label})
    return offered


@login_required
@require_POST
def reservation_status_view(request, reservation_id: int):
    actor = Principal.from_request(request)
    actor.require("reservation", "edit")
    try:
        reservation = reservation_get(actor=actor, reservation_id=reservation_id)
    except NotFound:
        raise Http404(_("There is no such reservation.")) from None
    action = request.POST.get("action", "")
    back = redirect("reservation_detail", reservation_id=reservation.pk)
    if has_nul(request.POST):
        messages.error(request, _("Text cannot contain NUL characters."))
        return back
    if action not in ACTIONS:
        messages.error(request, _("Choose what to do with the reservation."))
        return back
    try:
        if action == "confirm":
            reservation_confirm(reservation=reservation, actor=actor)
        elif action == "cancel":
            reservation_cancel(
                reservation=reservation, actor=actor, reason=request.POST.get("reason", "")
            )
        else:
            reservation_status_change(reservation=reservation, status=TARGETS[action], actor=actor)
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, str(ACTIONS[action][1]))
    return back


def _amount(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value) >= Decimal("100000000000"):
        return None
    return value


@login_required
@require_POST
def reservation_folio_view(request, reservation_id: int):
    """Post a charge (``entry=charge``: kind, amount, date, description) or a payment
    (``entry=payment``: method, amount, reference) in the booking's currency."""
    actor = Principal.from_request(request)
    actor.require("reservation", "edit")
    try:
        reservation = reservation_get(actor=actor, reservation_id=reservation_id)
    except NotFound:
        raise Http404(_("There is no such reservation.")) from None
    back = redirect("reservation_detail", reservation_id=reservation.pk)
    post = request.POST
    if has_nul(post):
        messages.error(request, _("Text cannot contain NUL characters."))
        return back
    entry = post.get("entry", "")
    amount = _amount(post.get("amount", ""))
    if entry not in ("charge", "payment"):
        messages.error(request, _("Choose a charge or a payment."))
        return back
    if amount is None or amount == 0 or (entry == "payment" and amount < 0):
        messages.error(request, _("Give the amount as a number, such as 120.50."))
        return back
    try:
        if entry == "charge":
            try:
                posted_on = date.fromisoformat(post.get("posted_on", ""))
            except ValueError:
                raise ValidationError({"posted_on": _("Give the date as YYYY-MM-DD.")}) from None
            folio_line_add(
                reservation=reservation,
                kind=post.get("kind", ""),
                amount=amount,
                posted_on=posted_on,
                description=post.get("description", "").strip(),
                actor=actor,
            )
        else:
            payment_add(
                reservation=reservation,
                method=post.get("method", ""),
                amount=amount,
                reference=post.get("reference", "").strip(),
                actor=actor,
            )
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(
            request, _("Charge posted.") if entry == "charge" else _("Payment recorded.")
        )
    return back
