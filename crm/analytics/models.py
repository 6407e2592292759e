"""What the module stores in the tenant's schema: one score row per guest, the churn
models (versioned, each with its training report) and the module's settings."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Segment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL = "potential", _("Potential loyalists")
    NEW = "new", _("New")
    AT_RISK = "at_risk", _("At risk")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    FIRST_STAY = "first_stay", _("First stay")
    ACTIVE = "active", pgettext_lazy("lifecycle", "Active")
    LAPSING = "lapsing", _("Lapsing")
    LAPSED = "lapsed", _("Lapsed")


class ChurnSource(models.TextChoices):
    MODEL = "model", _("Churn model")
    # A tenant whose model could not be trained: a plain rule on recency and frequency,
    # never presented as a prediction.
    RULES = "rules", _("Rules (not enough data for a model)")


class Settings(models.Model):
    """The module's settings for the tenant: one row (id 1), made by the migration."""

    # A guest has churned when they have no stay in this many months after a date.
    churn_horizon_months = models.PositiveSmallIntegerField(default=12)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"analytics settings ({self.churn_horizon_months} months)"


class GuestScore(models.Model):
    """A guest's scores as of ``computed_at``; replaced whole by each scoring run. The
    RFM quintiles are among guests with at least one stay (null for the others)."""

    guest = models.OneToOneField(
        "crm.Guest", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    recency = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary = models.PositiveSmallIntegerField(null=True, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    # Revenue of the guest's stays in the base currency (``currency``).
    historical_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    currency = models.CharField(max_length=3)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices)
    churn_risk = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    churn_source = models.CharField(max_length=10, choices=ChurnSource.choices, blank=True)
    # [{"feature": "recency_days", "text": "No stay for 400 days"}, ...] strongest first.
    churn_reasons = models.JSONField(default=list, blank=True)
    churn_model_version = models.PositiveIntegerField(null=True, blank=True)
    # [{"kind": "hotel", "code": "LIS", "label": ..., "score": 0.4, "reason": ...}, ...]
    offers = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["guest_id"]
        indexes = [
            models.Index(fields=["segment"], name="analytics_score_segment"),
            models.Index(fields=["churn_risk"], name="analytics_score_churn"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(churn_risk__isnull=True)
                | models.Q(churn_risk__gte=0, churn_risk__lte=1),
                name="analytics_score_churn_range",
            ),
        ]

    def __str__(self) -> str:
        return f"scores of guest {self.guest_id}"


class ChurnModel(models.Model):
    """One training run of the tenant's churn model. ``version`` counts up; scoring uses
    the latest ``trained`` one. The model is stored as numbers (scaler and logistic
    coefficients), never as a pickle, so loading it runs no code."""

    class Status(models.TextChoices):
        TRAINED = "trained", _("Trained")
        NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data")

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    trained_at = models.DateTimeField()
    cutoff = models.DateField(help_text="Features up to this day; labels after it")
    horizon_months = models.PositiveSmallIntegerField()
    training_size = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    # AUC, precision at the top decile, base rate, calibration, feature importances...
    report = models.JSONField(default=dict, blank=True)
    # {"features": [...], "mean": [...], "scale": [...], "coef": [...], "intercept": x}
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"churn model v{self.version} ({self.status})"


class WarningRule(models.Model):
    """A threshold an administrator sets. ``guest_churn``: a guest whose churn risk
    reaches ``threshold`` (and whose VIP level is at least ``min_vip_level``) raises
    ``analytics_alert`` on the guest. ``report``: a measure of one hotel's reservations
    arriving in the last ``window_days`` compared with the threshold (``above`` /
    ``below``) or with the window before (``rise_pct`` / ``fall_pct``, in per cent) raises
    ``analytics_report_alert`` on the hotel."""

    class Kind(models.TextChoices):
        GUEST_CHURN = "guest_churn", _("Guest churn risk")
        REPORT = "report", _("Report measure")

    class Comparison(models.TextChoices):
        ABOVE = "above", _("Above")
        BELOW = "below", _("Below")
        RISE_PCT = "rise_pct", _("Rises by more than (%)")
        FALL_PCT = "fall_pct", _("Falls by more than (%)")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    measure = models.CharField(max_length=30, blank=True)
    property_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=40, blank=True)
    market_code = models.CharField(max_length=20, blank=True)
    comparison = models.CharField(max_length=10, choices=Comparison.choices, default="above")
    threshold = models.DecimalField(max_digits=14, decimal_places=4)
    window_days = models.PositiveSmallIntegerField(default=7)
    min_vip_level = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """A rule crossed on a day for a record; one per rule, day and record, so a check
    run twice raises nothing new."""

    rule = models.ForeignKey(WarningRule, on_delete=models.CASCADE, related_name="alerts")
    fired_on = models.DateField()
    object_api_name = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    value = models.DecimalField(max_digits=18, decimal_places=4)
    previous = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "fired_on", "record_id"], name="analytics_alert_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.fired_on}: {self.object_api_name} {self.record_id}"


class Rollup(models.Model):
    """Reservations summed per arrival day, hotel, channel, market, source, room type,
    rate plan, status, booking-window and length-of-stay bucket: what the reservation
    reports read. Kept current by the reservation events (the rows of the day and hotel a
    write touches are recomputed in its transaction) and rebuilt nightly (exchange rates
    entered late change values)."""

    arrival = models.DateField()
    property_id = models.BigIntegerField()
    channel = models.CharField(max_length=40, blank=True)
    market_code = models.CharField(max_length=20, blank=True)
    source_of_business = models.CharField(max_length=40, blank=True)
    room_type_id = models.BigIntegerField(null=True, blank=True)
    rate_plan_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20)
    window_bucket = models.CharField(max_length=10)
    los_bucket = models.CharField(max_length=10)
    bookings = models.PositiveIntegerField()
    room_nights = models.PositiveIntegerField()
    # Base currency; NULL when no reservation of the row could be converted.
    value = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    unconverted = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["arrival", "property_id"], name="analytics_rollup_day")]

    def __str__(self) -> str:
        return f"{self.arrival} @ {self.property_id}: {self.bookings}"


class SegmentSnapshot(models.Model):
    """A guest's RFM segment as of a month (the last scoring run of that month wins):
    what the movement between months is counted from."""

    guest = models.ForeignKey("crm.Guest", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month")
    segment = models.CharField(max_length=20, choices=Segment.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guest", "month"], name="analytics_snapshot_once"),
        ]
        indexes = [models.Index(fields=["month", "segment"], name="analytics_snapshot_month")]

    def __str__(self) -> str:
        return f"{self.guest_id} {self.month:%Y-%m}: {self.segment}"
