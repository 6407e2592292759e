"""Daily screens: the dashboard, reservations (list and detail) and companies."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Company, FolioLine, Payment, Reservation
from crm.selectors.operations import (
    activities_recent,
    arrivals_on,
    companies_list,
    guests_count,
    in_house,
    properties_list,
    reservation_get,
    reservations_list,
)
from crm.selectors.timeline import tasks_open_mine
from tenants.access.principal import Principal
from tenants.context import current_zone
from tenants.errors import NotFound
from tenants.jobs.selectors import jobs_recent

PAGE_SIZE = 50


@login_required
def dashboard(request):
    if request.user.must_change_password:
        return redirect("password_change")
    actor = Principal.from_request(request)
    can_reservations = actor.can("reservation", "view")
    arrivals = arrivals_on(actor=actor, day=timezone.localdate()) if can_reservations else None
    context = {
        "properties": properties_list(actor=actor),
        "guest_count": guests_count(actor=actor) if actor.can("guest", "view") else None,
        "arrivals": arrivals[:20] if arrivals is not None else None,
        "arrivals_today": arrivals.count() if arrivals is not None else None,
        "in_house": in_house(actor=actor).count() if can_reservations else None,
        "activities": activities_recent(actor=actor, limit=10),
        "tasks": [
            {
                "task": task,
                # The tenant's clock, as the task was typed in (the template's filters
                # would show UTC).
                "due": task.due_at.astimezone(current_zone()).strftime("%Y-%m-%d %H:%M")
                if task.due_at
                else None,
                "guest_id": int(task.record_id) if task.object_api_name == "guest" else None,
            }
            for task in tasks_open_mine(actor=actor, limit=10)
        ],
        "zone": str(current_zone()),
        "jobs": jobs_recent(actor=actor, limit=5),
    }
    return render(request, "home.html", context)


def _day(raw: str | None) -> tuple[date | None, str | None]:
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, _("%(value)s is not a date as YYYY-MM-DD.") % {"value": raw}


@login_required
def reservation_list(request):
    actor = Principal.from_request(request)
    status = request.GET.get("status") or ""
    errors = []
    arrival_from, error = _day(request.GET.get("arrival_from"))
    errors += [error] if error else []
    arrival_to, error = _day(request.GET.get("arrival_to"))
    errors += [error] if error else []
    if status and status not in Reservation.Status.values:
        errors.append(_("%(value)s is not a reservation status.") % {"value": status})
        status = ""
    raw_property = request.GET.get("property") or ""
    property_id = int(raw_property) if raw_property.isdigit() else None
    search = (request.GET.get("q") or "").strip()
    if "\x00" in search:  # PostgreSQL refuses NUL in text
        errors.append(_("The search cannot contain NUL characters."))
    reservations = reservations_list(
        actor=actor,
        query=search,
        status=status,
        property_id=property_id,
        arrival_from=arrival_from,
        arrival_to=arrival_to,
    )
    if "\x00" in search:
        reservations = reservations.none()
    page = Paginator(reservations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crm/reservation_list.html",
        {
            "page": page,
            "errors": errors,
            "values": request.GET,
            "statuses": Reservation.Status.choices,
            "properties": properties_list(actor=actor),
            "query": query.urlencode(),
        },
        status=400 if errors else 200,
    )


@login_required
def reservation_detail(request, reservation_id: int):
    actor = Principal.from_request(request)
    try:
        reservation = reservation_get(actor=actor, reservation_id=reservation_id)
    except NotFound:
        raise Http404(_("There is no such reservation.")) from None
    from crm.selectors.operations import reservation_balance
    from crm.selectors.timeline import record_history
    from saas.ui.reservations import actions_for

    can_edit = actor.can("reservation", "edit")
    return render(
        request,
        "crm/reservation_detail.html",
        {
            "r": reservation,
            "can_see_guest": actor.can("guest", "view"),
            "balance": reservation_balance(actor=actor, reservation=reservation),
            "actions": actions_for(reservation) if can_edit else [],
            "can_post": can_edit,
            "folio_kinds": FolioLine.Kind.choices,
            "payment_methods": Payment.Method.choices,
            # The tenant's date: a charge is posted on the hotel's business day.
            "today": timezone.now().astimezone(current_zone()).date().isoformat(),
            "history": record_history(
                actor=actor, object_api_name="reservation", record_id=reservation.pk
            ),
        },
    )


@login_required
def company_list(request):
    query = (request.GET.get("q") or "").strip()
    error = None
    companies = companies_list(actor=Principal.from_request(request), query=query)
    if "\x00" in query:  # PostgreSQL refuses NUL in text
        error = _("The search cannot contain NUL characters.")
        companies = companies.none()
    page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/company_list.html",
        {"page": page, "q": query, "kinds": dict(Company.Kind.choices), "error": error},
        status=400 if error else 200,
    )
