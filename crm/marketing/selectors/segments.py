"""Which guests a segment holds. A dynamic segment's definition is::

    {
      "conditions": [{"field": "nationality", "op": "eq", "value": "FR"},
                     {"field": "custom.points", "op": "gte", "value": 10}],
      "consent": {"channel": "email", "purpose": "marketing", "state": "opted_in"},
      "reservations": {"property_ids": [3], "arrival_from": "2026-01-01",
                       "arrival_to": "2026-12-31", "channel": "BOOKING",
                       "market_code": "LEIS", "room_type_ids": [4],
                       "status": ["checked_out"]}
    }

``conditions`` are the list API's filter grammar, evaluated by the same engine
(``metadata.selectors.records.records_list``): standard and custom fields, the same
operators and coercions, and the same access checks (a field the principal cannot read
cannot be a condition; hotel-limited staff count only the guests of their hotels).
``consent`` is the latest consent of a channel and purpose; ``reservations`` asks for at
least one reservation of the guest matching every key. Erased guests are never members.

Then the segment's ``include`` adds the guests of other segments and ``exclude`` takes
away those of others (resolved recursively, a cycle is refused)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from crm.marketing.models import Segment, SegmentMember
from crm.models import Guest, GuestConsent, Reservation
from tenants.access.principal import Principal

OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "isnull")
CONSENT_STATES = ("opted_in", "opted_out", "unknown")
RESERVATION_KEYS = frozenset(
    {
        "property_ids",
        "arrival_from",
        "arrival_to",
        "channel",
        "market_code",
        "room_type_ids",
        "status",
    }
)
DEFINITION_KEYS = frozenset({"conditions", "consent", "reservations"})
MAX_CONDITIONS = 30
MAX_DEPTH = 5


def _bad(key: str, message: str) -> ValidationError:
    return ValidationError({key: message})


def _ids(value: Any, key: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v < 2**62 for v in value
    ):
        raise _bad(key, "Give a list of record ids.")
    return value


def _day(value: Any, key: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad(key, f"{value!r} is not a date (YYYY-MM-DD).") from None


def definition_clean(definition: Any) -> dict[str, Any]:
    """The definition in its stored shape; a ValidationError names what is wrong
    (``conditions``, ``consent``, ``reservations.arrival_from``...)."""
    if definition in (None, ""):
        return {}
    if not isinstance(definition, dict):
        raise _bad("definition", "A definition is an object of conditions.")
    unknown = sorted(set(definition) - DEFINITION_KEYS)
    if unknown:
        raise _bad(unknown[0], f"{unknown[0]} is not part of a segment's definition.")
    out: dict[str, Any] = {}
    conditions = definition.get("conditions") or []
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise _bad("conditions", f"Conditions are a list of at most {MAX_CONDITIONS}.")
    cleaned = []
    for item in conditions:
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            raise _bad("conditions", 'Each condition is {"field", "op", "value"}.')
        name, op = item.get("field"), item.get("op", "eq")
        if not isinstance(name, str) or not name:
            raise _bad("conditions", "Each condition names its field.")
        if op not in OPERATORS:
            raise _bad("conditions", f"{op!r} is not an operator ({', '.join(OPERATORS)}).")
        value = item.get("value")
        if not isinstance(value, str | int | float | bool | list) or (
            isinstance(value, str) and "\x00" in value
        ):
            raise _bad("conditions", f"The value of {name} is not a valid filter value.")
        cleaned.append({"field": name, "op": op, "value": value})
    if cleaned:
        out["conditions"] = cleaned
    consent = definition.get("consent")
    if consent:
        if not isinstance(consent, dict) or set(consent) - {"channel", "purpose", "state"}:
            raise _bad("consent", 'Consent is {"channel", "purpose", "state"}.')
        if consent.get("channel") not in GuestConsent.Channel.values:
            raise _bad("consent", f"The channel is one of {', '.join(GuestConsent.Channel)}.")
        purpose = consent.get("purpose", "marketing")
        if purpose not in GuestConsent.Purpose.values:
            raise _bad("consent", f"The purpose is one of {', '.join(GuestConsent.Purpose)}.")
        state = consent.get("state", "opted_in")
        if state not in CONSENT_STATES:
            raise _bad("consent", f"The state is one of {', '.join(CONSENT_STATES)}.")
        out["consent"] = {"channel": consent["channel"], "purpose": purpose, "state": state}
    reservations = definition.get("reservations")
    if reservations:
        if not isinstance(reservations, dict):
            raise _bad("reservations", "Reservation conditions are an object.")
        unknown = sorted(set(reservations) - RESERVATION_KEYS)
        if unknown:
            key = f"reservations.{unknown[0]}"
            raise _bad(key, f"{unknown[0]} is not a reservation condition.")
        kept: dict[str, Any] = {}
        for key in ("property_ids", "room_type_ids"):
            if key in reservations:
                kept[key] = _ids(reservations[key], f"reservations.{key}")
        for key in ("arrival_from", "arrival_to"):
            if key in reservations:
                kept[key] = _day(reservations[key], f"reservations.{key}").isoformat()
        for key in ("channel", "market_code"):
            if key in reservations:
                value = reservations[key]
                if not isinstance(value, str) or not value or len(value) > 40:
                    raise _bad(f"reservations.{key}", "Give a short text.")
                kept[key] = value
        if "status" in reservations:
            statuses = reservations["status"]
            if not isinstance(statuses, list) or not set(statuses) <= set(
                Reservation.Status.values
            ):
                raise _bad(
                    "reservations.status",
                    f"Statuses are a list of {', '.join(Reservation.Status.values)}.",
                )
            kept["status"] = statuses
        out["reservations"] = kept
    return out


def _conditions_queryset(*, actor: Principal, definition: dict[str, Any]) -> QuerySet:
    from metadata.selectors.records import records_list

    filters = []
    for item in definition.get("conditions", []):
        name = item["field"]
        bare = name[len("custom.") :] if name.startswith("custom.") else name
        value = item["value"]
        if isinstance(value, bool) and item["op"] != "isnull":
            value = "true" if value else "false"
        filters.append((bare, item["op"], value))
    try:
        queryset = records_list(actor=actor, object_api_name="guest", filters=filters)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            names = ", ".join(exc.message_dict)
            raise _bad("conditions", f"{names}: {'; '.join(exc.messages)}") from None
        raise _bad("conditions", "; ".join(exc.messages)) from None
    queryset = queryset.filter(erased_at__isnull=True)
    consent = definition.get("consent")
    if consent:
        actor.require_readable("guest", ["consents"], purpose="filter by")
        latest = (
            GuestConsent.objects.filter(
                guest=OuterRef("pk"), channel=consent["channel"], purpose=consent["purpose"]
            )
            .order_by("-recorded_at", "-pk")
            .values("opted_in")[:1]
        )
        queryset = queryset.annotate(_consent=Subquery(latest))
        if consent["state"] == "opted_in":
            queryset = queryset.filter(_consent=True)
        elif consent["state"] == "opted_out":
            queryset = queryset.filter(_consent=False)
        else:
            queryset = queryset.filter(_consent__isnull=True)
    reservations = definition.get("reservations")
    if reservations is not None:
        actor.require("reservation", "view")
        matching = actor.scope("reservation", Reservation.objects.filter(guest=OuterRef("pk")))
        lookups = {
            "property_ids": "property_id__in",
            "room_type_ids": "room_type_id__in",
            "arrival_from": "arrival__gte",
            "arrival_to": "arrival__lte",
            "channel": "channel",
            "market_code": "market_code",
            "status": "status__in",
        }
        for key, lookup in lookups.items():
            if key in reservations:
                matching = matching.filter(**{lookup: reservations[key]})
        queryset = queryset.filter(Exists(matching))
    return queryset


def definition_guests(*, actor: Principal, definition: Any) -> QuerySet[Guest]:
    """The guests a (not yet saved) dynamic definition matches: the live count of the
    condition editor."""
    actor.require("segment", "view")
    return _conditions_queryset(actor=actor, definition=definition_clean(definition))


def segment_guests(
    *, actor: Principal, segment: Segment, _seen: frozenset[int] = frozenset()
) -> QuerySet[Guest]:
    """The segment's members as a queryset of guests (ordered by id)."""
    actor.require("segment", "view")
    if segment.pk in _seen or len(_seen) > MAX_DEPTH:
        raise _bad("include", "Segments cannot include or exclude themselves, in a cycle.")
    seen = _seen | {segment.pk}
    if segment.kind == Segment.Kind.STATIC:
        base = actor.scope("guest", Guest.objects.all()).filter(
            erased_at__isnull=True,
            pk__in=SegmentMember.objects.filter(segment=segment).values("guest_id"),
        )
    else:
        base = _conditions_queryset(actor=actor, definition=segment.definition or {})
    ids = base.values("pk")
    others = {s.pk: s for s in Segment.objects.filter(pk__in=[*segment.include, *segment.exclude])}
    queryset = actor.scope("guest", Guest.objects.all()).filter(erased_at__isnull=True)
    condition = queryset.filter(pk__in=ids)
    for pk in segment.include:
        if pk in others:
            included = segment_guests(actor=actor, segment=others[pk], _seen=seen)
            condition = condition | queryset.filter(pk__in=included.values("pk"))
    for pk in segment.exclude:
        if pk in others:
            excluded = segment_guests(actor=actor, segment=others[pk], _seen=seen)
            condition = condition.exclude(pk__in=excluded.values("pk"))
    return condition.order_by("pk")


def guest_segments(*, actor: Principal, guest_id: int) -> list[Segment]:
    """The segments a guest is in now (membership, for the API and workflow
    conditions). One query per segment: a tenant has tens of segments, not thousands."""
    actor.require("segment", "view")
    return [
        segment
        for segment in Segment.objects.order_by("name", "pk")
        if segment_guests(actor=actor, segment=segment).filter(pk=guest_id).exists()
    ]
