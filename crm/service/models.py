"""Tables of the service desk. Cases themselves are crm's; the module keeps, beside
them, the calendars and targets that time them, one timer row per case, and the
surveys with their invitations and answers."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- service levels ----------------------------------------------------------------------

F_MAX = 60 * 24 * 366  # a year of minutes: the longest target


class BusinessCalendar(models.Model):
    """Opening hours per weekday and holidays. One calendar per hotel (``property_id``),
    plus at most one for the whole group (no hotel) that hotels without their own use.
    Times are wall-clock times of ``timezone``, else of the hotel, else of the group."""

    name = models.CharField(max_length=100)
    property = models.OneToOneField(
        "crm.Property",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="service_calendar",
    )
    timezone = models.CharField(max_length=64, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # At most one calendar without a hotel: the group's default.
            models.UniqueConstraint(
                fields=["property"], nulls_distinct=False, name="service_calendar_one_per_hotel"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening of a weekday (0 Monday .. 6 Sunday); a day may have several. A
    closing time of 00:00 means midnight at the end of the day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="service_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens}-{self.closes}"


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    day = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="service_holiday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class ServiceLevel(models.Model):
    """Targets for cases of a category and priority, in business minutes. A blank
    category is the target of every category without one of its own."""

    category = models.CharField(max_length=20, blank=True)
    priority = models.CharField(max_length=10)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "priority"], name="service_level_category_priority"
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__lte=F_MAX) & Q(resolution_minutes__lte=F_MAX),
                name="service_level_targets_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'}/{self.priority}"


class CaseSla(models.Model):
    """The timers of one case. Targets are copied when the case starts (or its category
    or priority changes), so editing a service level does not move running cases' due
    times. ``paused_seconds`` is business time spent waiting on the guest (or resolved
    before a reopening): due = started + target + paused, in business time."""

    class Timer(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    case = models.OneToOneField("crm.Case", on_delete=models.CASCADE, related_name="sla")
    service_level = models.ForeignKey(
        ServiceLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=30, blank=True)
    paused_seconds = models.BigIntegerField(default=0)
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # What the queue sorts by: the first response while it is owed, else the resolution
    # (kept by save(); an index walks the queue in order without sorting every case).
    next_due = models.DateTimeField(null=True, blank=True)
    # Times the case came back after it was resolved (the reopen rate's numerator).
    reopened_count = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_due", "case"], name="service_sla_next_due_idx"),
            # What the breach sweep reads: running timers past their due time.
            models.Index(
                fields=["first_response_due"],
                condition=Q(
                    first_response_at__isnull=True,
                    first_response_breached_at__isnull=True,
                    paused_since__isnull=True,
                    resolved_at__isnull=True,
                ),
                name="service_sla_first_due_idx",
            ),
            models.Index(
                fields=["resolution_due"],
                condition=Q(
                    resolution_breached_at__isnull=True,
                    paused_since__isnull=True,
                    resolved_at__isnull=True,
                ),
                name="service_sla_resolution_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"timers of case {self.case_id}"

    def save(self, *args, **kwargs) -> None:
        self.next_due = (
            self.first_response_due if self.first_response_at is None else self.resolution_due
        )
        fields = kwargs.get("update_fields")
        if fields is not None:
            kwargs["update_fields"] = {*fields, "next_due"}
        super().save(*args, **kwargs)


# --- surveys -----------------------------------------------------------------------------


class Survey(models.Model):
    key = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # How long a link works after it was made.
    link_days = models.PositiveSmallIntegerField(default=30)
    # An answer with an NPS at or below this opens a case (None: never).
    case_at_nps = models.PositiveSmallIntegerField(null=True, blank=True, default=6)
    # Guests invited by e-mail who have not answered this many days later get one
    # reminder (None: no reminders).
    remind_after_days = models.PositiveSmallIntegerField(null=True, blank=True, default=3)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(link_days__gte=1) & Q(link_days__lte=365), name="service_survey_days"
            ),
            models.CheckConstraint(
                condition=Q(case_at_nps__isnull=True) | Q(case_at_nps__lte=10),
                name="service_survey_case_at_nps",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Question(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("Likelihood to recommend (0-10)")
        CSAT = "csat", _("Satisfaction (1-5)")
        TEXT = "text", _("Free text")
        DEPARTMENT = "department", _("Department rating (1-5)")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.CharField(max_length=500)
    # The department a "department" question rates (front_office, housekeeping, fnb...).
    department = models.SlugField(max_length=40, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="service_question_key"),
            models.UniqueConstraint(
                fields=["survey", "kind"],
                condition=Q(kind__in=["nps", "csat"]),
                name="service_question_one_score_each",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Invitation(models.Model):
    """A guest asked to answer a survey about a stay. The link carries only a signed
    random ``key`` (no name, e-mail or id of the guest)."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # crm deletes a guest merged into another (crm cannot know of surveys): the database
    # checks this key at commit, by when the guest.merged event has moved the invitation
    # to the surviving profile (crm.service.events), as loyalty's members. Erasure keeps
    # the row.
    guest = models.ForeignKey(
        "crm.Guest", null=True, on_delete=models.DO_NOTHING, related_name="survey_invitations"
    )
    reservation = models.ForeignKey(
        "crm.Reservation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    property = models.ForeignKey(
        "crm.Property", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, default="email")
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "guest", "reservation"],
                nulls_distinct=False,
                name="service_invitation_one_per_stay",
            ),
        ]
        indexes = [models.Index(fields=["property", "created_at"])]

    def __str__(self) -> str:
        return f"invitation {self.pk}"


class Response(models.Model):
    """A guest's answer to an invitation: one per invitation, a second answer updates
    it. Hotel, stay and channel are copied from the invitation for the measures."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    guest = models.ForeignKey(  # moved by the guest.merged event, as the invitation's
        "crm.Guest", null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    reservation = models.ForeignKey(
        "crm.Reservation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    property = models.ForeignKey(
        "crm.Property", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20)
    language = models.CharField(max_length=10, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # {department: 1..5}
    ratings = models.JSONField(default=dict, blank=True)
    # {question key: value}, everything answered.
    answers = models.JSONField(default=dict, blank=True)
    times_answered = models.PositiveSmallIntegerField(default=1)
    case = models.ForeignKey(
        "crm.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10), name="service_response_nps"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | (Q(csat__gte=1) & Q(csat__lte=5)),
                name="service_response_csat",
            ),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}"


# --- messages with the guest -------------------------------------------------------------


class CaseMessage(models.Model):
    """An e-mail on a case: a reply sent to the guest, or the guest's answer that came
    back through the case's signed reply-to address."""

    class Direction(models.TextChoices):
        OUT = "out", _("To the guest")
        IN = "in", _("From the guest")

    case = models.ForeignKey("crm.Case", on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # The guest's address (recipient of a reply, sender of an answer).
    address = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    language = models.CharField(max_length=10, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)  # who replied (staff)
    # A reply leaves through the workflows' message outbox (delivery, retries, status).
    outbox_id = models.BigIntegerField(null=True, blank=True)
    # The Message-ID of an answer handed over by the mail provider: a provider that posts
    # the same message twice (it retries until it sees a 2xx) stores it once.
    message_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "message_id"],
                condition=~Q(message_id=""),
                name="service_case_message_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} message on case {self.case_id}"


# --- the case desk: assignment, merges, compensation ------------------------------------


class AssignmentRule(models.Model):
    """Who gets a new case nobody owns: the first active rule (by ``position``) whose hotel,
    category and priority match (blank matches any) hands it to the next of its agents in
    turn (round robin; ``next_index`` is the turn, moved under a row lock)."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    property_id = models.BigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=20, blank=True)
    priority = models.CharField(max_length=10, blank=True)
    user_ids = models.JSONField(default=list)
    next_index = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class CaseMerge(models.Model):
    """A duplicate case folded into another: its messages, notes, answers and
    compensation moved over, the duplicate closed and pointing here."""

    duplicate = models.OneToOneField(
        "crm.Case", on_delete=models.CASCADE, related_name="merged_into"
    )
    primary = models.ForeignKey("crm.Case", on_delete=models.CASCADE, related_name="merged_from")
    user_id = models.BigIntegerField(null=True, blank=True)
    merged_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"case {self.duplicate_id} into {self.primary_id}"


class Compensation(models.Model):
    """Something given to a guest for a failure: loyalty points (when the programme is on),
    a credit on the folio, a voucher or a refund request. Money in the hotel's currency.
    Asked for by an agent, decided (approved or rejected) by someone with the right to,
    never by the one who asked unless an administrator."""

    class Kind(models.TextChoices):
        POINTS = "points", _("Loyalty points")
        CREDIT = "credit", _("Credit on the bill")
        VOUCHER = "voucher", _("Voucher")
        REFUND = "refund", _("Refund request")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey("crm.Case", on_delete=models.CASCADE, related_name="compensations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.BigIntegerField(null=True, blank=True)
    decided_by = models.BigIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="points") & Q(points__gt=0) & Q(amount__isnull=True))
                | (~Q(kind="points") & Q(amount__gt=0) & Q(points__isnull=True)),
                name="service_compensation_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"
