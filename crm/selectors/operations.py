"""Reads for the daily screens: the dashboard, reservations and companies."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from crm.models import Activity, Company, Guest, Property, Reservation
from tenants.access.principal import Principal
from tenants.errors import NotFound


def arrivals_on(*, actor: Principal, day: date) -> QuerySet[Reservation]:
    """Reservations arriving on ``day`` that are not cancelled, with guest and hotel, at
    the hotels the principal works with."""
    actor.require("reservation", "view")
    return actor.scope(
        "reservation",
        Reservation.objects.filter(arrival=day)
        .exclude(status__in=[Reservation.Status.CANCELLED, Reservation.Status.NO_SHOW])
        .select_related("guest", "property", "room_type")
        .order_by("property__name", "guest__surname", "pk"),
    )


def in_house(*, actor: Principal) -> QuerySet[Reservation]:
    actor.require("reservation", "view")
    return actor.scope(
        "reservation", Reservation.objects.filter(status=Reservation.Status.IN_HOUSE)
    )


def guests_count(*, actor: Principal) -> int:
    actor.require("guest", "view")
    return actor.scope("guest", Guest.objects.filter(erased_at__isnull=True)).count()


def properties_list(*, actor: Principal) -> QuerySet[Property]:
    """Hotels the principal works with (every hotel's name is needed to pick one, so the
    view right on hotels is not asked here; the hotel scope is)."""
    return actor.scope("property", Property.objects.all())


def activities_recent(*, actor: Principal, limit: int = 10) -> list[Activity]:
    """The latest notes, calls and tasks on records of objects the principal may view
    (hotel scope applied to activities of hotel-bound records)."""
    activities = Activity.objects.select_related("created_by").order_by("-occurred_at", "-pk")
    objects = set(activities.values_list("object_api_name", flat=True).distinct()[:50])
    visible = [o for o in objects if actor.can(o, "view")]
    out = []
    for activity in activities.filter(object_api_name__in=visible)[: limit * 5]:
        if actor.property_ids() is not None and not _record_visible(actor, activity):
            continue
        out.append(activity)
        if len(out) == limit:
            break
    return out


def _record_visible(actor: Principal, activity: Activity) -> bool:
    from metadata.selectors.records import records_queryset

    try:
        queryset = records_queryset(object_api_name=activity.object_api_name)
        return (
            actor.scope(activity.object_api_name, queryset)
            .filter(pk=int(activity.record_id))
            .exists()
        )
    except (ValueError, LookupError):
        return False


def reservations_list(
    *,
    actor: Principal,
    query: str = "",
    status: str = "",
    property_id: int | None = None,
    arrival_from: date | None = None,
    arrival_to: date | None = None,
) -> QuerySet[Reservation]:
    actor.require("reservation", "view")
    reservations = actor.scope(
        "reservation", Reservation.objects.select_related("guest", "property", "room_type")
    )
    if query:
        condition = Q(confirmation_number__icontains=query)
        if actor.field_level("guest", "surname") != "hidden" and actor.can("guest", "view"):
            condition |= Q(guest__surname__icontains=query)
        reservations = reservations.filter(condition)
    if status:
        reservations = reservations.filter(status=status)
    if property_id is not None:
        reservations = reservations.filter(property_id=property_id)
    if arrival_from is not None:
        reservations = reservations.filter(arrival__gte=arrival_from)
    if arrival_to is not None:
        reservations = reservations.filter(arrival__lte=arrival_to)
    return reservations.order_by("-arrival", "pk")


def reservation_get(*, actor: Principal, reservation_id: int) -> Reservation:
    """One reservation within the principal's reach (404 otherwise, alike)."""
    actor.require("reservation", "view")
    found = (
        actor.scope("reservation", Reservation.objects.all())
        .select_related("guest", "property", "room_type", "rate_plan", "booker_company")
        .prefetch_related("folio_lines", "payments", "stays__guest")
        .filter(pk=reservation_id)
        .first()
    )
    if found is None:
        raise NotFound(f"No reservation with id {reservation_id}.", field="id")
    return found


def companies_list(*, actor: Principal, query: str = "") -> QuerySet[Company]:
    actor.require("company", "view")
    companies = Company.objects.all()
    if query:
        companies = companies.filter(name__icontains=query)
    return companies.order_by("name", "pk")


def exchange_rates_list() -> QuerySet:
    """Dated exchange rates, newest first per currency."""
    from crm.models import ExchangeRate

    return ExchangeRate.objects.order_by("currency", "-valid_from")


def reservation_balance(*, actor: Principal, reservation: Reservation) -> list[dict]:
    """Charges, payments and what is still owed, per currency (a folio may hold lines in
    more than one): ``[{"currency", "charges", "payments", "balance"}]``, the booking's
    own currency first."""
    from decimal import Decimal

    from django.db.models import Sum

    from crm.models import FolioLine, Payment

    actor.require("reservation", "view")
    totals: dict[str, dict] = {}

    def row(currency: str) -> dict:
        return totals.setdefault(
            currency,
            {"currency": currency, "charges": Decimal("0"), "payments": Decimal("0")},
        )

    for currency, amount in (
        FolioLine.objects.filter(reservation=reservation)
        .values_list("currency")
        .annotate(total=Sum("amount"))
    ):
        row(currency)["charges"] = amount
    for currency, amount in (
        Payment.objects.filter(reservation=reservation)
        .values_list("currency")
        .annotate(total=Sum("amount"))
    ):
        row(currency)["payments"] = amount
    row(reservation.currency)
    for entry in totals.values():
        entry["balance"] = entry["charges"] - entry["payments"]
    return sorted(
        totals.values(), key=lambda e: (e["currency"] != reservation.currency, e["currency"])
    )
