"""Points for stays: posted when a reservation is checked out, reversed when it is
cancelled, deleted or corrected afterwards.

``stay_sync`` compares what the ledger holds for a reservation (its earn entry not yet
reversed) with what the reservation earns now, and posts the difference as a reversal
and a new earn entry. It is called for every reservation event that can change the
answer (``crm.loyalty.events``) and by the nightly reconciliation, and running it twice
changes nothing the second time.

The primary guest earns (as crm counts revenue on the primary guest), on the total
amount converted into the tenant's base currency with the latest exchange rate on or
before arrival -- the same rate the guest's revenue statistics use, so the profile and
the programme agree. A stay in a currency without a rate earns no points but still
counts its nights and the stay for tiers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from crm.loyalty.models import LedgerEntry, Member, Programme
from crm.loyalty.services.ledger import (
    Kind,
    Source,
    credit,
    debit,
    expire_due,
    expiry_for,
    member_lock,
    programme_current,
    revenue_points,
    today,
)
from crm.loyalty.services.tiers import tier_upgrade_check
from crm.models import ExchangeRate, Reservation
from crm.services.common import money_round, tenant_base_currency
from tenants.access.principal import Principal

log = logging.getLogger(__name__)
CHECKED_OUT = Reservation.Status.CHECKED_OUT


@dataclass(frozen=True)
class Earning:
    member_id: int
    points: int
    nights: int
    revenue: Decimal
    stay_on: object
    details: dict


def base_amount(*, amount: Decimal, currency: str, on) -> tuple[Decimal | None, dict]:
    """``amount`` in the base currency with the rate dated on or before ``on`` (None
    without a rate), and how it was converted."""
    base = tenant_base_currency()
    if currency == base:
        return money_round(amount, base), {"amount": str(amount), "currency": currency}
    rate = (
        ExchangeRate.objects.filter(currency=currency, base_currency=base, valid_from__lte=on)
        .order_by("-valid_from")
        .first()
    )
    info = {"amount": str(amount), "currency": currency, "base_currency": base}
    if rate is None:
        return None, {**info, "rate": None}
    converted = money_round(Decimal(amount) * rate.rate, base)
    return converted, {
        **info,
        "rate": str(rate.rate),
        "rate_date": rate.valid_from.isoformat(),
        "base_amount": str(converted),
    }


def _wanted(reservation: Reservation | None, programme: Programme) -> Earning | None:
    if reservation is None or reservation.status != CHECKED_OUT:
        return None
    member = (
        Member.objects.filter(guest_id=reservation.guest_id, status=Member.Status.ACTIVE)
        .select_related("tier")
        .first()
    )
    if member is None:
        return None
    revenue, details = base_amount(
        amount=reservation.total_amount, currency=reservation.currency, on=reservation.arrival
    )
    multiplier = member.tier.earn_multiplier if member.tier else Decimal(1)
    points = revenue_points(revenue or Decimal(0), programme, multiplier)
    details.update(
        {
            "points_per_unit": str(programme.points_per_unit),
            "multiplier": str(multiplier),
            "tier": member.tier.key if member.tier else None,
            "confirmation_number": reservation.confirmation_number,
            "property": reservation.property_id,
        }
    )
    return Earning(
        member_id=member.pk,
        points=points,
        nights=reservation.nights,
        revenue=revenue or Decimal(0),
        stay_on=reservation.departure,
        details=details,
    )


def _member_inactive(guest_id: int) -> bool:
    return Member.objects.filter(guest_id=guest_id).exclude(status=Member.Status.ACTIVE).exists()


def _same(entry: LedgerEntry, wanted: Earning) -> bool:
    return (
        entry.member_id == wanted.member_id
        and entry.nights == wanted.nights
        and entry.revenue == wanted.revenue
        and entry.stay_on == wanted.stay_on
        and entry.details.get("amount") == wanted.details.get("amount")
        and entry.details.get("currency") == wanted.details.get("currency")
    )


def _reverse(entry: LedgerEntry, member: Member, *, actor: Principal, reason: str) -> LedgerEntry:
    """Take an earn entry's points back (its own bucket first). Points already spent
    cannot be taken below zero: what is missing is recorded as ``shortfall``."""
    take = min(entry.points, member.balance)
    details = {"shortfall": entry.points - take} if take < entry.points else {}
    stay = {
        "reservation_id": entry.reservation_id,
        "reverses": entry,
        "stay_on": entry.stay_on,
        "nights": -entry.nights,
        "revenue": -entry.revenue,
    }
    if take > 0:
        reversal = debit(
            member=member,
            kind=Kind.REVERSE,
            source=Source.RESERVATION,
            points=take,
            actor=actor,
            reason=reason,
            first=entry,
            details=details,
            **stay,
        )
    else:
        # Nothing to take (a stay that earned no points, or everything spent): a 0-point
        # entry still closes the earn entry for the tier window.
        reversal = LedgerEntry.objects.create(
            member=member,
            kind=Kind.REVERSE,
            source=Source.RESERVATION,
            points=0,
            remaining=0,
            reason=reason,
            details=details,
            actor_user_id=actor.user_id,
            actor_label=actor.label if actor.is_system else "",
            **stay,
        )
    if details:
        log.warning(
            "loyalty: stay %s reversed with a shortfall of %s points (member %s)",
            entry.reservation_id,
            details["shortfall"],
            member.number,
        )
    return reversal


@transaction.atomic
def stay_sync(*, reservation_id: int, actor: Principal) -> list[LedgerEntry]:
    """Bring the ledger in line with the reservation; returns the entries written."""
    actor.require("loyalty_ledger", "create")
    reservation = Reservation.objects.filter(pk=reservation_id).first()
    if reservation is not None and _member_inactive(reservation.guest_id):
        # A suspended or closed membership earns nothing new and keeps what it earned.
        return []
    programme = programme_current()
    wanted = _wanted(reservation, programme)
    posted = list(
        LedgerEntry.objects.filter(
            reservation_id=reservation_id, kind=Kind.EARN, reversed_by__isnull=True
        ).order_by("id")
    )
    if wanted is None and not posted:
        return []
    if wanted is not None and len(posted) == 1 and _same(posted[0], wanted):
        return []
    # Lock every member involved, lowest id first (a stay moved between two guests).
    ids = sorted({e.member_id for e in posted} | ({wanted.member_id} if wanted else set()))
    members = {pk: member_lock(pk) for pk in ids}
    written: list[LedgerEntry] = []
    on = today()
    if reservation is None:
        reason = "reservation deleted"
    elif wanted is not None:
        reason = "stay corrected"
    elif reservation.status != CHECKED_OUT:
        reason = f"stay {reservation.status.replace('_', ' ')}"  # "stay cancelled"
    else:
        reason = "stay moved to a guest who is not a member"
    for entry in posted:
        written.append(_reverse(entry, members[entry.member_id], actor=actor, reason=reason))
    if wanted is not None:
        member = members[wanted.member_id]
        expire_due(member=member, on=on, actor=actor)
        assert reservation is not None
        written.append(
            credit(
                member=member,
                kind=Kind.EARN,
                source=Source.RESERVATION,
                points=wanted.points,
                actor=actor,
                expires_on=expiry_for(programme, on) if wanted.points else None,
                reason=f"Stay {reservation.confirmation_number}",
                reservation_id=reservation.pk,
                stay_on=wanted.stay_on,
                nights=wanted.nights,
                revenue=wanted.revenue,
                details=wanted.details,
            )
        )
        if wanted.details.get("rate", "") is None:
            log.warning(
                "loyalty: no %s->%s rate on or before %s for stay %s; no points earned",
                wanted.details.get("currency"),
                wanted.details.get("base_currency"),
                reservation.arrival,
                reservation.pk,
            )
    for member in members.values():
        tier_upgrade_check(
            member=member,
            programme=programme,
            actor=actor,
            reason=f"stay {reservation.confirmation_number}" if reservation else "stay",
        )
    return written


def stays_reconcile(*, actor: Principal, days: int = 30) -> int:
    """The nightly safety net: stays checked out in the last ``days`` days by members
    with no earn entry, and earn entries whose stay is no longer checked out, are synced
    (a posting that failed, a reservation changed by a path that announced nothing).
    Returns how many reservations were synced."""
    from datetime import timedelta

    from django.db.models import Exists, OuterRef

    since = today() - timedelta(days=days)
    earned = LedgerEntry.objects.filter(
        reservation_id=OuterRef("pk"), kind=Kind.EARN, reversed_by__isnull=True
    )
    missing = (
        Reservation.objects.filter(status=CHECKED_OUT, departure__gte=since)
        .filter(Exists(Member.objects.filter(guest_id=OuterRef("guest_id"), status="active")))
        .filter(~Exists(earned))
        .values_list("pk", flat=True)
    )
    stale = (
        LedgerEntry.objects.filter(kind=Kind.EARN, reversed_by__isnull=True, stay_on__gte=since)
        .exclude(
            Exists(Reservation.objects.filter(pk=OuterRef("reservation_id"), status=CHECKED_OUT))
        )
        .values_list("reservation_id", flat=True)
    )
    ids = sorted(set(missing) | {i for i in stale if i is not None})
    for reservation_id in ids:
        stay_sync(reservation_id=reservation_id, actor=actor)
    return len(ids)
