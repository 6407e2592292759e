"""Guest profiles and everything hanging off them."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.fields import EncryptedDateField, EncryptedTextField
from crm.models.properties import Property


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual (FIT)")
    GROUP = "group", _("Group")
    CORPORATE = "corporate", _("Corporate")
    MICE = "mice", _("MICE")
    TRAVEL_AGENT = "travel_agent", _("Travel agent")


class Guest(models.Model):
    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class IdDocumentType(models.TextChoices):
        NONE = "", _("None")
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        DRIVING_LICENCE = "driving_licence", _("Driving licence")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
        OTHER = "other", _("Other")

    name_prefix = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100)
    name_suffix = models.CharField(max_length=20, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    nationality = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=10, blank=True)
    # The primary e-mail and phone, kept in step with GuestEmail/GuestPhone by the
    # services, so lists, search and dedupe need no join.
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    id_document_type = models.CharField(max_length=20, choices=IdDocumentType.choices, blank=True)
    id_document_number = EncryptedTextField(blank=True)
    id_document_expiry = EncryptedDateField(null=True, blank=True)
    id_document_country = models.CharField(max_length=2, blank=True)
    customer_type = models.CharField(
        max_length=20, choices=CustomerType.choices, default=CustomerType.INDIVIDUAL
    )
    vip_level = models.PositiveSmallIntegerField(default=0)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    # Maintained statistics (revenue in the tenant's base currency).
    stays = models.PositiveIntegerField(default=0)
    nights = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    first_stay = models.DateField(null=True, blank=True)
    last_stay = models.DateField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["surname", "given_name", "pk"]
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["surname", "given_name"]),
            models.Index(fields=["phone"], name="crm_guest_phone_idx"),
            models.Index(fields=["birth_date"], name="crm_guest_birth_date_idx"),
            GinIndex(fields=["tags"], name="crm_guest_tags_gin"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(vip_level__lte=9), name="guest_vip_range"),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def full_name(self) -> str:
        parts = [self.name_prefix, self.given_name, self.middle_name, self.surname]
        name = " ".join(p for p in parts if p)
        return f"{name}, {self.name_suffix}" if self.name_suffix else name

    @property
    def id_document_number_masked(self) -> str:
        """What lists show: the last 4 characters only."""
        return self.identity_masked(self.id_document_number)

    @staticmethod
    def identity_masked(number: str | None) -> str:
        if not number:
            return ""
        return "•" * max(len(number) - 4, 2) + number[-4:]


class GuestEmail(models.Model):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField()
    kind = models.CharField(max_length=20, default="personal")  # personal, work, other
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["guest", "email"], name="guestemail_unique"),
            models.UniqueConstraint(
                fields=["guest"], condition=models.Q(is_primary=True), name="guestemail_one_primary"
            ),
        ]
        indexes = [models.Index(fields=["email"], name="crm_guestemail_email_idx")]

    def __str__(self) -> str:
        return self.email


class GuestPhone(models.Model):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, help_text="E.164")
    kind = models.CharField(max_length=20, default="mobile")  # mobile, home, work, other
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["guest", "number"], name="guestphone_unique"),
            models.UniqueConstraint(
                fields=["guest"], condition=models.Q(is_primary=True), name="guestphone_one_primary"
            ),
        ]
        indexes = [models.Index(fields=["number"], name="crm_guestphone_number_idx")]

    def __str__(self) -> str:
        return self.number


class GuestAddress(models.Model):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=20, default="home")  # home, work, billing, other
    line1 = models.CharField(max_length=200, blank=True)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["guest"],
                condition=models.Q(is_primary=True),
                name="guestaddress_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.line1}, {self.city}"


class GuestPreference(models.Model):
    """A preference such as ROOM/HIGH_FLOOR or PILLOW/FOAM, for every property (property
    empty) or for one property."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="preferences")
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["group", "code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["guest", "property", "group", "code"],
                name="guestpreference_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}/{self.code}"


class GuestConsent(models.Model):
    """One consent event; the current state of a channel × purpose is its latest row."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Phone")
        POST = "post", _("Post")
        MESSAGING = "messaging", _("Messaging apps")

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SERVICE = "service", _("Service messages")
        PROFILING = "profiling", _("Profiling and analytics")
        THIRD_PARTY = "third_party", _("Sharing with partners")

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    opted_in = models.BooleanField()
    source = models.CharField(max_length=60, blank=True)
    recorded_at = models.DateTimeField()
    # The staff user who recorded it (a tenant user's id; empty for the platform's own
    # writes: imports by system, unsubscribe links, rows from before it was kept).
    recorded_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["guest", "channel", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {self.opted_in}"


class GuestExternalId(models.Model):
    """A guest's id in another system (PMS, CRS, OTA...). Several systems map to one
    profile; the same external id never maps to two profiles."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(max_length=40)
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    external_id = models.CharField(max_length=100)

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "property", "external_id"],
                name="guestexternalid_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
