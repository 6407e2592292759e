"""Reads of the service desk, each asking the principal (object right, module on,
hotel scope)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from crm.models import Case
from crm.service.models import (
    AssignmentRule,
    BusinessCalendar,
    CaseMessage,
    CaseSla,
    Compensation,
    Invitation,
    Question,
    Response,
    ServiceLevel,
    Survey,
)
from crm.service.services.sla import FIRST, RESOLUTION, RUNNING, clock, sla_new, timer_state
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.errors import NotFound


def service_levels_list(*, actor: Principal) -> QuerySet[ServiceLevel]:
    actor.require("service_level", "view")
    return ServiceLevel.objects.order_by("category", "priority", "pk")


def service_level_get(*, actor: Principal, level_id: int) -> ServiceLevel:
    found = service_levels_list(actor=actor).filter(pk=level_id).first()
    if found is None:
        raise NotFound("There is no such service level.", field="id")
    return found


def calendars_list(*, actor: Principal) -> QuerySet[BusinessCalendar]:
    actor.require("service_level", "view")
    return BusinessCalendar.objects.prefetch_related("hours", "holidays").order_by(
        "property_id", "pk"
    )


def case_sla(*, actor: Principal, case: Case) -> dict[str, Any]:
    """The case's timers (the caller has already looked the case up with its rights).
    A case from before the module has none yet: they are shown from its creation
    without being stored (the sweep stores them)."""
    sla = CaseSla.objects.filter(case=case).first()
    if sla is None:
        sla = sla_new(case=case, started_at=case.created)
    now = clock()
    return {
        "case": case.pk,
        "service_level": sla.service_level_id,
        "started_at": sla.started_at,
        "paused": sla.paused_since is not None,
        "paused_since": sla.paused_since,
        "pause_reason": sla.pause_reason,
        "paused_minutes": sla.paused_seconds // 60,
        "first_response": timer_state(sla, FIRST, now),
        "resolution": timer_state(sla, RESOLUTION, now),
    }


def surveys_list(*, actor: Principal) -> QuerySet[Survey]:
    actor.require("survey", "view")
    return Survey.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "pk"))
    ).order_by("key")


def survey_get(*, actor: Principal, survey_id: int) -> Survey:
    found = surveys_list(actor=actor).filter(pk=survey_id).first()
    if found is None:
        raise NotFound("There is no such survey.", field="survey")
    return found


def responses_list(
    *,
    actor: Principal,
    survey_id: int | None = None,
    property_id: int | None = None,
    guest_id: int | None = None,
) -> QuerySet[Response]:
    actor.require("survey_response", "view")
    queryset = actor.scope("survey_response", Response.objects.all()).order_by(
        "-submitted_at", "-pk"
    )
    if survey_id is not None:
        queryset = queryset.filter(survey_id=survey_id)
    if property_id is not None:
        queryset = queryset.filter(property_id=property_id)
    if guest_id is not None:
        queryset = queryset.filter(guest_id=guest_id)
    return queryset


def response_get(*, actor: Principal, response_id: int) -> Response:
    found = responses_list(actor=actor).filter(pk=response_id).first()
    if found is None:
        raise NotFound("There is no such survey response.", field="id")
    return found


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def survey_measures(
    *,
    actor: Principal,
    start: date,
    end: date,
    property_id: int | None = None,
    survey_id: int | None = None,
) -> list[dict[str, Any]]:
    """NPS, CSAT and response rate per hotel and month, for invitations made in the
    months ``start``..``end`` (months of the group's time zone). Everything of a row is
    about the same invitations: those sent that month, and the answers to them.

    * NPS = % promoters (9-10) - % detractors (0-6) of the answers with a score;
    * CSAT = % of answers with a satisfaction of 4 or 5 (and the average, 1-5);
    * response rate = answered invitations / invitations."""
    actor.require("survey_response", "view")
    if end < start:
        raise ValidationError({"end": "The end of the period comes before its start."})
    zone = ZoneInfo(getattr(current_tenant(), "timezone", None) or "UTC")
    since = datetime.combine(start.replace(day=1), time.min, tzinfo=zone)
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    until = datetime.combine(following, time.min, tzinfo=zone)
    invitations = actor.scope(
        "survey_response", Invitation.objects.filter(created_at__gte=since, created_at__lt=until)
    )
    if property_id is not None:
        invitations = invitations.filter(property_id=property_id)
    if survey_id is not None:
        invitations = invitations.filter(survey_id=survey_id)
    month = TruncMonth("created_at", tzinfo=zone)
    rows: dict[tuple[int | None, date], dict[str, Any]] = defaultdict(
        lambda: {"sent": 0, "answered": 0, "nps": defaultdict(int), "csat": defaultdict(int)}
    )
    for row in invitations.annotate(m=month).values("property_id", "m").annotate(n=Count("pk")):
        rows[(row["property_id"], row["m"].date())]["sent"] = row["n"]
    answered = (
        invitations.filter(response__isnull=False)
        .annotate(m=month)
        .values("property_id", "m", "response__nps", "response__csat")
        .annotate(n=Count("pk"))
    )
    for row in answered:
        bucket = rows[(row["property_id"], row["m"].date())]
        bucket["answered"] += row["n"]
        if row["response__nps"] is not None:
            bucket["nps"][row["response__nps"]] += row["n"]
        if row["response__csat"] is not None:
            bucket["csat"][row["response__csat"]] += row["n"]
    out = []
    for (prop, first_day), bucket in sorted(
        rows.items(), key=lambda item: (item[0][1], item[0][0] or 0)
    ):
        scores, sat = bucket["nps"], bucket["csat"]
        scored = sum(scores.values())
        promoters = sum(n for s, n in scores.items() if s >= 9)
        detractors = sum(n for s, n in scores.items() if s <= 6)
        rated = sum(sat.values())
        satisfied = sum(n for s, n in sat.items() if s >= 4)
        nps = None
        if scored:
            nps = (Decimal(100) * (promoters - detractors) / scored).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        average = None
        if rated:
            average = (Decimal(sum(s * n for s, n in sat.items())) / rated).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
        out.append(
            {
                "property": prop,
                "month": first_day.strftime("%Y-%m"),
                "invitations": bucket["sent"],
                "responses": bucket["answered"],
                "response_rate": _percent(bucket["answered"], bucket["sent"]),
                "nps": nps,
                "nps_answers": scored,
                "promoters": promoters,
                "passives": scored - promoters - detractors,
                "detractors": detractors,
                "csat": _percent(satisfied, rated),
                "csat_average": average,
                "csat_answers": rated,
            }
        )
    return out


QUEUE_STATES = ("breached", "paused", "running", "untimed")


def case_queue(
    *,
    actor: Principal,
    property_id: int | None = None,
    priority: str = "",
    state: str = "",
) -> QuerySet[Case]:
    """Running cases the principal may see (hotel scope), the next due first: the first
    response while it is owed, else the resolution; cases without a due time last.

    The queue walks the timers' ``next_due`` index, so it lists cases that have timers:
    every case opened while the module is on, and older ones once the minute's sweep has
    started theirs. ``untimed`` shows those still without, and those without targets."""
    actor.require("case", "view")
    if state and state not in QUEUE_STATES:
        raise ValidationError({"state": f"Use one of {', '.join(QUEUE_STATES)}."})
    if priority and priority not in Case.Priority.values:
        raise ValidationError({"priority": f"Use one of {', '.join(Case.Priority.values)}."})
    queryset = actor.scope(
        # Every status of a case still being worked: new, reopened and waiting on the
        # guest too (the last with its timers paused).
        "case",
        Case.objects.filter(status__in=RUNNING),
    ).select_related("property", "owner", "sla")
    if property_id is not None:
        queryset = queryset.filter(property_id=property_id)
    if priority:
        queryset = queryset.filter(priority=priority)
    if state == "untimed":
        return queryset.filter(
            Q(sla__isnull=True) | Q(sla__next_due__isnull=True, sla__paused_since__isnull=True)
        ).order_by("pk")
    queryset = queryset.filter(sla__isnull=False)
    now = clock()
    if state == "breached":
        queryset = queryset.filter(
            Q(sla__first_response_breached_at__isnull=False, sla__first_response_at__isnull=True)
            | Q(sla__resolution_breached_at__isnull=False)
            | Q(sla__next_due__lt=now)
        )
    elif state == "paused":
        queryset = queryset.filter(sla__paused_since__isnull=False)
    elif state == "running":
        queryset = queryset.filter(sla__paused_since__isnull=True, sla__next_due__gte=now)
    return queryset.order_by(F("sla__next_due").asc(nulls_last=True), "pk")


def queue_row(case: Case, now: datetime | None = None) -> dict[str, Any]:
    """What the queue shows of a case's timers."""
    now = now or clock()
    sla = case.sla if hasattr(case, "sla") else None  # none yet: from before the module
    if sla is None:
        sla = sla_new(case=case, started_at=case.created)
    first, resolution = timer_state(sla, FIRST, now), timer_state(sla, RESOLUTION, now)
    return {
        "case": case,
        "first_response": first,
        "resolution": resolution,
        "timers": [first, resolution],
        "paused": sla.paused_since is not None,
    }


def case_messages(*, actor: Principal, case: Case) -> QuerySet[CaseMessage]:
    """The e-mails of a case the caller has looked up with its rights, oldest first."""
    actor.require("case", "view")
    return CaseMessage.objects.filter(case=case).order_by("created_at", "pk")


def sla_measures(
    *, actor: Principal, start: date, end: date, property_id: int | None = None
) -> list[dict[str, Any]]:
    """Service-level compliance per hotel and month of the cases opened in the months
    ``start``..``end`` (the group's time zone), for the cases the caller may see: per
    timer, how many were met and how many breached (running ones are neither), the
    compliance (met / (met + breached), in %). ``cases`` counts the cases with timers
    (every case since the module; older running ones once the sweep started theirs)."""
    actor.require("case", "view")
    if end < start:
        raise ValidationError({"end": "The end of the period comes before its start."})
    zone = ZoneInfo(getattr(current_tenant(), "timezone", None) or "UTC")
    since = datetime.combine(start.replace(day=1), time.min, tzinfo=zone)
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    until = datetime.combine(following, time.min, tzinfo=zone)
    cases = actor.scope("case", Case.objects.filter(created__gte=since, created__lt=until))
    if property_id is not None:
        cases = cases.filter(property_id=property_id)
    slas = CaseSla.objects.filter(case__in=cases).annotate(
        m=TruncMonth("case__created", tzinfo=zone)
    )
    out: dict[tuple[int | None, date], dict[str, Any]] = {}
    for row in (
        slas.values("case__property_id", "m")
        .annotate(
            cases=Count("pk"),
            first_met=Count(
                "pk",
                filter=Q(first_response_at__isnull=False, first_response_breached_at__isnull=True)
                & (
                    Q(first_response_due__isnull=True)
                    | Q(first_response_at__lte=F("first_response_due"))
                ),
            ),
            first_breached=Count("pk", filter=Q(first_response_breached_at__isnull=False)),
            resolution_met=Count(
                "pk",
                filter=Q(resolved_at__isnull=False, resolution_breached_at__isnull=True)
                & (Q(resolution_due__isnull=True) | Q(resolved_at__lte=F("resolution_due"))),
            ),
            resolution_breached=Count("pk", filter=Q(resolution_breached_at__isnull=False)),
            to_first_response=Avg(F("first_response_at") - F("started_at")),
            to_resolution=Avg(F("resolved_at") - F("started_at")),
            reopened=Count("pk", filter=Q(reopened_count__gt=0)),
            ever_resolved=Count(
                "pk", filter=Q(resolved_at__isnull=False) | Q(reopened_count__gt=0)
            ),
        )
        .order_by("m", "case__property_id")
    ):
        first = row["first_met"] + row["first_breached"]
        resolution = row["resolution_met"] + row["resolution_breached"]
        out[(row["case__property_id"], row["m"].date())] = {
            "property": row["case__property_id"],
            "month": row["m"].date().strftime("%Y-%m"),
            "cases": row["cases"],
            "first_response_met": row["first_met"],
            "first_response_breached": row["first_breached"],
            "first_response_compliance": _percent(row["first_met"], first),
            "resolution_met": row["resolution_met"],
            "resolution_breached": row["resolution_breached"],
            "resolution_compliance": _percent(row["resolution_met"], resolution),
            "first_response_minutes": _minutes(row["to_first_response"]),
            "resolution_minutes": _minutes(row["to_resolution"]),
            "reopened": row["reopened"],
            "reopen_rate": _percent(row["reopened"], row["ever_resolved"]),
            "categories": {},
            "compensation": [],
        }
    for counted in (
        cases.annotate(m=TruncMonth("created", tzinfo=zone))
        .values("property_id", "m", "category")
        .annotate(n=Count("pk"))
    ):
        found = out.get((counted["property_id"], counted["m"].date()))
        if found is not None:
            found["categories"][counted["category"]] = counted["n"]
    for given in (
        Compensation.objects.filter(case__in=cases, status=Compensation.Status.APPROVED)
        .annotate(m=TruncMonth("case__created", tzinfo=zone))
        .values("case__property_id", "m", "kind", "currency")
        .annotate(amount=Sum("amount"), points=Sum("points"), n=Count("pk"))
        .order_by("kind", "currency")
    ):
        found = out.get((given["case__property_id"], given["m"].date()))
        if found is not None:
            found["compensation"].append(
                {
                    "kind": given["kind"],
                    "count": given["n"],
                    "amount": given["amount"],
                    "currency": given["currency"] or None,
                    "points": given["points"],
                }
            )
    return list(out.values())


def _minutes(span) -> int | None:
    """A mean duration in whole minutes (wall-clock time from the case's start)."""
    return None if span is None else int(span.total_seconds() // 60)


# --- the case desk ----------------------------------------------------------------------


def compensations_list(*, actor: Principal, case: Case | None = None) -> QuerySet[Compensation]:
    """Compensation the caller may see (their hotels' cases), of one case or all."""
    actor.require("case_compensation", "view")
    rows = actor.scope("case_compensation", Compensation.objects.all())
    if case is not None:
        rows = rows.filter(case=case)
    return rows.order_by("created_at", "pk")


def compensation_get(*, actor: Principal, compensation_id: int) -> Compensation:
    found = compensations_list(actor=actor).filter(pk=compensation_id).first()
    if found is None:
        raise NotFound("There is no such compensation.", field="id")
    return found


def assignment_rules_list(*, actor: Principal) -> QuerySet[AssignmentRule]:
    actor.require("case_assignment_rule", "view")
    return AssignmentRule.objects.order_by("position", "pk")


def assignment_rule_get(*, actor: Principal, rule_id: int) -> AssignmentRule:
    found = assignment_rules_list(actor=actor).filter(pk=rule_id).first()
    if found is None:
        raise NotFound("There is no such assignment rule.", field="id")
    return found


def case_merged_into(*, case: Case) -> int | None:
    """The case a duplicate was folded into, if it was."""
    from crm.service.models import CaseMerge

    return CaseMerge.objects.filter(duplicate=case).values_list("primary_id", flat=True).first()
