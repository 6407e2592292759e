"""Hotels, their room types and rate plans. Names and descriptions are translated with
django-modeltranslation (see crm/translation.py)."""

from __future__ import annotations

from django.db import models


class Property(models.Model):
    """A hotel. ``code`` is the OpenTravel HotelCode the PMS and channels use."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    timezone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3)
    star_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    room_count = models.PositiveIntegerField(default=0)
    opened_on = models.DateField(null=True, blank=True)
    # Values of the tenant's custom fields, validated by the metadata engine.
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "properties"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(star_rating__isnull=True) | models.Q(star_rating__lte=7),
                name="property_star_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RoomType(models.Model):
    """OTA RoomTypeCode of one property, with its rack (base) rate."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="room_types")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    capacity = models.PositiveSmallIntegerField(default=2)
    base_rate = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["property", "code"]
        constraints = [
            models.UniqueConstraint(fields=["property", "code"], name="roomtype_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} @ {self.property_id}"


class RatePlan(models.Model):
    """OTA RatePlanCode of one property."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="rate_plans")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["property", "code"]
        constraints = [
            models.UniqueConstraint(fields=["property", "code"], name="rateplan_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} @ {self.property_id}"


class ExchangeRate(models.Model):
    """How many units of the tenant's base currency one unit of ``currency`` was worth
    from ``valid_from`` on. Used to express guest revenue in the base currency."""

    currency = models.CharField(max_length=3)
    base_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    valid_from = models.DateField()

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "base_currency", "valid_from"], name="exchangerate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency}->{self.base_currency} {self.rate}"
