"""Reservations in the shape of OTA_HotelResNotifRQ, with folio lines and payments."""

from __future__ import annotations

import builtins

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.companies import Company
from crm.models.guests import Guest
from crm.models.properties import Property, RatePlan, RoomType


class Reservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")
        IN_HOUSE = "in_house", _("In house")
        CHECKED_OUT = "checked_out", _("Checked out")

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="reservations")
    # The primary (profile) guest; every staying guest has a ReservationGuest row too.
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="reservations")
    confirmation_number = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVED)
    channel = models.CharField(max_length=40, blank=True)
    market_code = models.CharField(max_length=20, blank=True)
    source_of_business = models.CharField(max_length=40, blank=True)
    arrival = models.DateField()
    departure = models.DateField()
    room_type = models.ForeignKey(
        RoomType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rate_plan = models.ForeignKey(
        RatePlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adults = models.PositiveSmallIntegerField(default=1)
    children = models.PositiveSmallIntegerField(default=0)
    total_amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    booker_guest = models.ForeignKey(
        Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="booked_reservations"
    )
    booker_company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booked_reservations",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True, default="")
    # When the hotel confirmed the booking to the guest (a step of its own, not a status:
    # a confirmed booking is still reserved until check-in).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-arrival", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["property", "confirmation_number"], name="reservation_confirmation_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(departure__gt=models.F("arrival")),
                name="reservation_departure_after_arrival",
            ),
        ]
        indexes = [models.Index(fields=["arrival"])]

    def __str__(self) -> str:
        return f"{self.confirmation_number} @ {self.property_id}"

    @builtins.property
    def nights(self) -> int:
        return (self.departure - self.arrival).days


class ReservationGuest(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="stays")
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="reservation_links")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["reservation", "-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "guest"], name="reservationguest_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guest_id} on {self.reservation_id}"


class FolioLine(models.Model):
    class Kind(models.TextChoices):
        ROOM = "room", _("Room")
        FOOD_BEVERAGE = "fnb", _("Food & beverage")
        OTHER = "other", _("Other")

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="folio_lines"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    posted_on = models.DateField()

    class Meta:
        ordering = ["posted_on", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class Payment(models.Model):
    class Method(models.TextChoices):
        PRE_AUTHORISATION = "pre_auth", _("Pre-authorisation")
        CITY_LEDGER = "city_ledger", _("City ledger")
        CASH = "cash", _("Cash")
        CARD = "card", _("Bank card")
        ONLINE = "online", _("Online")

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=20, choices=Method.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} {self.currency}"
