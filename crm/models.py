"""The daily data of a hotel group. These tables live in each tenant's schema."""

from __future__ import annotations

import builtins
from decimal import Decimal

from django.db import models


class Property(models.Model):
    """A hotel. ``code`` is the OpenTravel HotelCode the PMS and channels use."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    city = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3)
    star_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    room_count = models.PositiveIntegerField(default=0)
    # Values of the tenant's custom fields, validated by the metadata engine.
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Guest(models.Model):
    given_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    nationality = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=10, blank=True)
    # Maintained statistics (revenue in the tenant's base currency).
    stays = models.PositiveIntegerField(default=0)
    nights = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    first_stay = models.DateField(null=True, blank=True)
    last_stay = models.DateField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["surname", "given_name", "pk"]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["surname", "given_name"])]

    def __str__(self) -> str:
        return f"{self.given_name} {self.surname}"


class Reservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"
        IN_HOUSE = "in_house", "In house"
        CHECKED_OUT = "checked_out", "Checked out"

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="reservations")
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="reservations")
    confirmation_number = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVED)
    channel = models.CharField(max_length=40, blank=True)
    arrival = models.DateField()
    departure = models.DateField()
    adults = models.PositiveSmallIntegerField(default=1)
    children = models.PositiveSmallIntegerField(default=0)
    total_amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
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
        return f"{self.confirmation_number} @ {self.property.code}"

    @builtins.property
    def nights(self) -> int:
        return (self.departure - self.arrival).days
