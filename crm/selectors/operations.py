"""Reads for the daily screens: the dashboard, reservations and companies."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from crm.models import Activity, Company, Guest, Property, Reservation


def arrivals_on(*, day: date) -> QuerySet[Reservation]:
    """Reservations arriving on ``day`` that are not cancelled, with guest and hotel."""
    return (
        Reservation.objects.filter(arrival=day)
        .exclude(status__in=[Reservation.Status.CANCELLED, Reservation.Status.NO_SHOW])
        .select_related("guest", "property", "room_type")
        .order_by("property__name", "guest__surname", "pk")
    )


def in_house() -> QuerySet[Reservation]:
    return Reservation.objects.filter(status=Reservation.Status.IN_HOUSE)


def guests_count() -> int:
    return Guest.objects.filter(erased_at__isnull=True).count()


def properties_list() -> QuerySet[Property]:
    return Property.objects.all()


def activities_recent(*, limit: int = 10) -> QuerySet[Activity]:
    return Activity.objects.select_related("created_by").order_by("-occurred_at", "-pk")[:limit]


def tasks_open(*, assignee) -> QuerySet[Activity]:
    return Activity.objects.filter(
        kind=Activity.Kind.TASK, assignee=assignee, completed_at__isnull=True
    ).order_by("due_at", "pk")


def reservations_list(
    *,
    query: str = "",
    status: str = "",
    property_id: int | None = None,
    arrival_from: date | None = None,
    arrival_to: date | None = None,
) -> QuerySet[Reservation]:
    reservations = Reservation.objects.select_related("guest", "property", "room_type")
    if query:
        reservations = reservations.filter(
            Q(confirmation_number__icontains=query) | Q(guest__surname__icontains=query)
        )
    if status:
        reservations = reservations.filter(status=status)
    if property_id is not None:
        reservations = reservations.filter(property_id=property_id)
    if arrival_from is not None:
        reservations = reservations.filter(arrival__gte=arrival_from)
    if arrival_to is not None:
        reservations = reservations.filter(arrival__lte=arrival_to)
    return reservations.order_by("-arrival", "pk")


def reservation_get(*, reservation_id: int) -> Reservation:
    return (
        Reservation.objects.select_related(
            "guest", "property", "room_type", "rate_plan", "booker_company"
        )
        .prefetch_related("folio_lines", "payments", "stays__guest")
        .get(pk=reservation_id)
    )


def companies_list(*, query: str = "") -> QuerySet[Company]:
    companies = Company.objects.all()
    if query:
        companies = companies.filter(name__icontains=query)
    return companies.order_by("name", "pk")


def exchange_rates_list() -> QuerySet:
    """Dated exchange rates, newest first per currency."""
    from crm.models import ExchangeRate

    return ExchangeRate.objects.order_by("currency", "-valid_from")
