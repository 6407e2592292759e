"""The programme, its members and their points.

Points are whole numbers. A member's ``balance`` is kept on the row and always equals
the sum of the ledger's ``points`` (and the sum of the unexpired credits' ``remaining``):
every posting locks the member row (``SELECT ... FOR UPDATE``) and changes both in the
same transaction, and the database refuses a negative balance."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Programme(models.Model):
    """The tenant's programme settings: one row (id 1), made by the migration."""

    name = models.CharField(max_length=100, default="Rewards")
    # Points earned per unit of the base currency of eligible revenue (before the tier
    # multiplier); the product is rounded down.
    points_per_unit = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("1"))
    # Earned points expire this many months after they were earned (0: never).
    expiry_months = models.PositiveSmallIntegerField(default=24)
    # Tier qualification looks back this many months (a rolling window).
    qualification_months = models.PositiveSmallIntegerField(default=12)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """A membership level. A member qualifies for a tier by reaching any one of its
    thresholds (nights, stays or base-currency revenue in the qualification window); a
    threshold of 0 is not used, and a tier with none is the entry tier."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(unique=True)
    min_nights = models.PositiveIntegerField(default=0)
    min_stays = models.PositiveIntegerField(default=0)
    min_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    earn_multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    benefits = models.TextField(blank=True)
    # Flags workflows and screens can read ("late_checkout", "lounge"...).
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(earn_multiplier__gt=0), name="loyalty_tier_multiplier_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_entry(self) -> bool:
        return not (self.min_nights or self.min_stays or self.min_revenue)


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    # Nine digits from a per-tenant sequence and a Luhn check digit.
    number = models.CharField(max_length=20, unique=True)
    # crm deletes a guest merged into another (crm cannot know of members): the database
    # checks this key at commit, by when the guest.merged event has moved the membership
    # to the surviving profile (crm.loyalty.events). Erasure keeps the row (anonymised).
    guest = models.OneToOneField(
        "crm.Guest", on_delete=models.DO_NOTHING, related_name="loyalty_member"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    tier_since = models.DateField(null=True, blank=True)
    balance = models.BigIntegerField(default=0)
    lifetime_points = models.BigIntegerField(default=0)
    # Over the programme's qualification window, as of the last posting or review.
    qualifying_nights = models.PositiveIntegerField(default=0)
    qualifying_stays = models.PositiveIntegerField(default=0)
    qualifying_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    enrolled_at = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="loyalty_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LedgerEntry(models.Model):
    """One movement of points; never changed except ``remaining`` (what is left of a
    credit, consumed first-in first-out by redemptions and expiry) and never deleted.

    Credits (earn, positive adjust, a reverse of a debit) have ``points > 0`` and a
    ``remaining``; debits (redeem, expire, negative adjust, a reverse of a credit) have
    ``points < 0`` and ``remaining`` 0. A stay that earns nothing (no exchange rate, a
    zero amount) is still an ``earn`` entry of 0 points: its nights count for tiers."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted")
        REVERSE = "reverse", _("Reversed")

    class Source(models.TextChoices):
        RESERVATION = "reservation", _("Reservation")
        REDEMPTION = "redemption", _("Redemption")
        STAFF = "staff", _("Staff")
        API = "api", _("API")
        SYSTEM = "system", _("System")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    points = models.BigIntegerField()
    remaining = models.BigIntegerField(default=0)
    expires_on = models.DateField(null=True, blank=True)
    # Stays: the departure date, nights and base-currency revenue the entry qualifies
    # with (negative on the reversal), so the tier window is a sum over the ledger.
    stay_on = models.DateField(null=True, blank=True)
    nights = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    # A reference that outlives the reservation (no foreign key into crm's booking rows).
    reservation_id = models.BigIntegerField(null=True, blank=True)
    redemption = models.ForeignKey(
        "Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # Who posted it: a user id (no foreign key: the ledger outlives users) or, for the
    # platform's own work, the system principal's label.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # How the points were computed (amount, currency, rate, multiplier...).
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="loyalty_entry_member_idx"),
            # Open credits in FIFO order, for redemptions and the expiry run.
            models.Index(
                fields=["member", "expires_on", "id"],
                condition=Q(remaining__gt=0),
                name="loyalty_entry_open_idx",
            ),
            models.Index(
                fields=["expires_on"], condition=Q(remaining__gt=0), name="loyalty_entry_due_idx"
            ),
            models.Index(
                fields=["reservation_id"],
                condition=Q(reservation_id__isnull=False),
                name="loyalty_entry_stay_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0)
                & (Q(points__gt=0, remaining__lte=models.F("points")) | Q(remaining=0)),
                name="loyalty_entry_remaining_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} for member {self.member_id}"


class Reward(models.Model):
    class Kind(models.TextChoices):
        FREE_NIGHT = "free_night", _("Free night")
        UPGRADE = "upgrade", _("Upgrade")
        FOOD_BEVERAGE = "fnb_credit", _("F&B credit")
        PARTNER = "partner_voucher", _("Partner voucher")
        OTHER = "other", _("Other")

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True)
    points = models.PositiveIntegerField()
    available_from = models.DateField(null=True, blank=True)
    available_until = models.DateField(null=True, blank=True)
    # Hotels where it can be used (ids; empty: every hotel).
    property_ids = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["points", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gt=0), name="loyalty_reward_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Redemption(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    property_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    reserved_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reserved_at", "-pk"]
        indexes = [models.Index(fields=["member", "-reserved_at"], name="loyalty_redemption_idx")]

    def __str__(self) -> str:
        return f"{self.reward_id} for member {self.member_id} ({self.status})"
