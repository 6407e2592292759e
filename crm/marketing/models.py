"""The marketing module's tables. Hotels and rate plans are referred to by id lists (an
offer can name hotels of the group that come and go); guests by foreign key, because a
campaign's recipients and a static list's members must go with an erased guest."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.models import Guest

# --- offers and promo codes -------------------------------------------------------------


class Offer(models.Model):
    """A discount a booking engine or PMS may apply. A flash sale is an offer whose window
    (``starts_at``..``ends_at``) is short; empty lists mean every hotel / rate plan."""

    class DiscountKind(models.TextChoices):
        PERCENT = "percent", _("Percent off")
        AMOUNT = "amount", _("Amount off")

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    property_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    rate_plan_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    discount_kind = models.CharField(max_length=10, choices=DiscountKind.choices)
    discount_value = models.DecimalField(max_digits=14, decimal_places=3)
    # ISO 4217 for an amount off; empty for a percentage.
    currency = models.CharField(max_length=3, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_value__gt=Decimal(0)), name="offer_discount_positive"
            ),
            models.CheckConstraint(
                condition=Q(discount_kind="amount", currency__regex=r"^[A-Z]{3}$")
                | Q(discount_kind="percent", discount_value__lte=Decimal(100), currency=""),
                name="offer_discount_shape",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=F("starts_at")),
                name="offer_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class PromoCode(models.Model):
    """A code of an offer: single-use (one redemption) or shared (up to ``max_uses``;
    None: no cap). ``uses`` only grows through a conditional UPDATE that checks the cap,
    and the database refuses a count past it."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single use")
        SHARED = "shared", _("Shared")

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    # The campaign that handed the code out (its redemptions are its conversions).
    campaign = models.ForeignKey(
        "Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="codes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="promocode_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CodeRedemption(models.Model):
    """One use of a code. ``reference`` (the booking's reference or the caller's
    Idempotency-Key) makes a repeated call answer with the first redemption."""

    code = models.ForeignKey(PromoCode, on_delete=models.PROTECT, related_name="redemptions")
    reference = models.CharField(max_length=100)
    guest = models.ForeignKey(
        Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reservation_id = models.BigIntegerField(null=True, blank=True)
    property_id = models.BigIntegerField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    currency = models.CharField(max_length=3, blank=True)
    discount = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    redeemed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-redeemed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["code", "reference"], name="redemption_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code_id}:{self.reference}"


# --- segments ---------------------------------------------------------------------------


class Segment(models.Model):
    """Dynamic: ``definition`` holds conditions over guests (the list filter grammar, plus
    consent and reservations), evaluated when asked. Static: ``members`` were picked or
    snapshotted. Either kind adds the guests of ``include`` and removes those of
    ``exclude`` (other segments)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic")
        STATIC = "static", _("Static list")

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    definition = models.JSONField(default=dict, blank=True)
    include = ArrayField(models.BigIntegerField(), default=list, blank=True)
    exclude = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "guest"], name="segment_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.guest_id}"


# --- templates --------------------------------------------------------------------------


class EmailTemplate(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.key


class TemplateContent(models.Model):
    """One language of a template. ``body`` is text with ``{{ merge.fields }}`` (the
    workflows' allowlist) and ``[label](https://...)`` links; paragraphs are blank-line
    separated."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="contents")
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    preheader = models.CharField(max_length=300, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(fields=["template", "language"], name="template_language_once"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}/{self.language}"


# --- campaigns --------------------------------------------------------------------------


class Campaign(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="campaigns")
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    # A/B: the template's subject is A; ``subject_b`` (per language) is B, sent to
    # ``ab_sample_percent`` of the audience; the winner goes to the rest.
    subject_b = models.JSONField(default=dict, blank=True)
    ab_sample_percent = models.PositiveSmallIntegerField(default=0)
    ab_winner = models.CharField(max_length=1, blank=True)
    # When the sample's result is read and the winner goes to the rest.
    ab_wait_minutes = models.PositiveIntegerField(default=240)
    ab_decide_at = models.DateTimeField(null=True, blank=True)
    # What was sent, per language ({"en": {"subject", "preheader", "body"}}), frozen when
    # the campaign starts: a click is checked against these links even if the template
    # changes afterwards.
    content = models.JSONField(default=dict, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(default=0)
    frequency_cap_days = models.PositiveSmallIntegerField(default=0)
    attribution_days = models.PositiveSmallIntegerField(default=14)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__lte=50) & Q(ab_sample_percent__lte=100),
                name="campaign_percentages",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One guest of a campaign: the unit of delivery. (campaign, guest) is unique, so
    however often the audience is built or a chunk is redelivered, a guest has one row,
    and a row leaves ``queued`` once."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")
        CONTROL = "control", _("Hold-out control")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=1, blank=True)  # "a", "b" or "" (not yet)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "guest"], name="recipient_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["guest", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.guest_id} {self.status}"


class Suppression(models.Model):
    """An address that gets no marketing on a channel: bounced, complained, unsubscribed
    or added by hand. Keyed by the address (lower-cased), not the guest, so a guest
    deleted and imported again with the same address is still suppressed."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        MANUAL = "manual", _("Added by staff")

    channel = models.CharField(max_length=10)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    guest_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_once"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address} ({self.reason})"
