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
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from crm.loyalty.models import LedgerEntry, Member, Programme
from crm.loyalty.services.ledger import (
    Kind,
    Source,
    actor_fields,
    credit,
    debit,
    expire_due,
    expiry_for,
    member_lock,
    programme_current,
    revenue_points,
    today,
)
from crm.loyalty.services.tiers import tier_upgrade_check, tier_upgrades_check
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
    stay_on: date
    details: dict


def _converted(
    *, amount: Decimal, currency: str, base: str, rate: ExchangeRate | None
) -> tuple[Decimal | None, dict]:
    if currency == base:
        return money_round(amount, base), {"amount": str(amount), "currency": currency}
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


def base_amount(*, amount: Decimal, currency: str, on) -> tuple[Decimal | None, dict]:
    """``amount`` in the base currency with the rate dated on or before ``on`` (None
    without a rate), and how it was converted."""
    base = tenant_base_currency()
    rate = None
    if currency != base:
        rate = (
            ExchangeRate.objects.filter(currency=currency, base_currency=base, valid_from__lte=on)
            .order_by("-valid_from")
            .first()
        )
    return _converted(amount=amount, currency=currency, base=base, rate=rate)


class _Rates:
    """``base_amount`` for many stays: each currency's dated rates read once."""

    def __init__(self, currencies: set[str]) -> None:
        self.base = tenant_base_currency()
        self.rates: dict[str, list[ExchangeRate]] = defaultdict(list)
        for rate in ExchangeRate.objects.filter(
            currency__in=currencies - {self.base}, base_currency=self.base
        ).order_by("valid_from", "id"):
            self.rates[rate.currency].append(rate)
        self.dates = {c: [r.valid_from for r in rows] for c, rows in self.rates.items()}

    def amount(self, *, amount: Decimal, currency: str, on) -> tuple[Decimal | None, dict]:
        rate = None
        if currency != self.base and currency in self.dates:
            index = bisect_right(self.dates[currency], on)
            rate = self.rates[currency][index - 1] if index else None
        return _converted(amount=amount, currency=currency, base=self.base, rate=rate)


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
    converted = base_amount(
        amount=reservation.total_amount, currency=reservation.currency, on=reservation.arrival
    )
    return _earning(reservation, member, programme, converted)


def _earning(
    reservation: Reservation,
    member: Member,
    programme: Programme,
    converted: tuple[Decimal | None, dict],
) -> Earning:
    revenue, details = converted
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


def _earn_fields(reservation: Reservation, wanted: Earning, programme: Programme, on) -> dict:
    """What an earn entry for a stay holds besides its member, points and actor (one
    posting or a batch write it alike)."""
    return {
        "kind": Kind.EARN,
        "source": Source.RESERVATION,
        "expires_on": expiry_for(programme, on) if wanted.points else None,
        "reason": f"Stay {reservation.confirmation_number}",
        "reservation_id": reservation.pk,
        "stay_on": wanted.stay_on,
        "nights": wanted.nights,
        "revenue": wanted.revenue,
        "details": wanted.details,
    }


def _no_rate_warn(wanted: Earning, reservation: Reservation) -> None:
    if wanted.details.get("rate", "") is None:
        log.warning(
            "loyalty: no %s->%s rate on or before %s for stay %s; no points earned",
            wanted.details.get("currency"),
            wanted.details.get("base_currency"),
            reservation.arrival,
            reservation.pk,
        )


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
    # A sync of the same stay (the checkout event and the nightly reconciliation, two
    # workers given the same message) may have posted while we waited for the lock:
    # then everything is read again, under the locks already held.
    if _posted_ids(reservation_id) != [e.pk for e in posted]:
        return stay_sync(reservation_id=reservation_id, actor=actor)
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
                points=wanted.points,
                actor=actor,
                **_earn_fields(reservation, wanted, programme, on),
            )
        )
        _no_rate_warn(wanted, reservation)
    for member in members.values():
        tier_upgrade_check(
            member=member,
            programme=programme,
            actor=actor,
            reason=f"stay {reservation.confirmation_number}" if reservation else "stay",
        )
    return written


def _posted_ids(reservation_id: int) -> list[int]:
    return list(
        LedgerEntry.objects.filter(
            reservation_id=reservation_id, kind=Kind.EARN, reversed_by__isnull=True
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


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
    stays_sync_many(reservation_ids=ids, actor=actor)
    return len(ids)


# Reservations per transaction of ``stays_sync_many``.
BATCH = 1000


def stays_sync_many(*, reservation_ids, actor: Principal) -> int:
    """``stay_sync`` for many reservations, with the same outcome; returns how many
    entries ``stay_sync`` would have returned (earn and reverse entries).

    The common case -- a checked-out stay of an active member with nothing posted yet,
    that member's only stay in the batch -- is posted set-based (a lock on all the
    batch's members in one statement, the earn entries in one insert, balances,
    counters and tiers in one update); anything else (corrections, reversals, a stay
    moved between guests, a member with several stays in the batch) goes through
    ``stay_sync`` one by one. One transaction per ``BATCH`` reservations."""
    actor.require("loyalty_ledger", "create")
    ids = sorted({int(pk) for pk in reservation_ids})
    written = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            written += _sync_batch(ids[start : start + BATCH], actor)
    return written


def _sync_batch(ids: list[int], actor: Principal) -> int:
    posted: dict[int, int] = {
        reservation_id: member_id
        for reservation_id, member_id in LedgerEntry.objects.filter(
            reservation_id__in=ids, kind=Kind.EARN, reversed_by__isnull=True
        ).values_list("reservation_id", "member_id")
        if reservation_id is not None
    }
    reservations = list(
        Reservation.objects.filter(pk__in=ids).only(
            "id", "guest_id", "status", "total_amount", "currency", "arrival", "departure",
            "confirmation_number", "property_id",
        )
    )  # fmt: skip
    members = {
        m.guest_id: m
        for m in Member.objects.filter(guest_id__in={r.guest_id for r in reservations})
    }
    # Members a one-by-one sync may touch: theirs every posted stay's, before and after.
    busy = set(posted.values()) | {
        members[r.guest_id].pk for r in reservations if r.pk in posted and r.guest_id in members
    }
    fresh = [
        r
        for r in reservations
        if r.pk not in posted
        and r.status == CHECKED_OUT
        and r.guest_id in members
        and members[r.guest_id].status == Member.Status.ACTIVE
    ]
    stays_of = Counter(members[r.guest_id].pk for r in fresh)
    plain = [
        r
        for r in fresh
        if stays_of[members[r.guest_id].pk] == 1 and members[r.guest_id].pk not in busy
    ]
    one_by_one = set(posted) | ({r.pk for r in fresh} - {r.pk for r in plain})
    written = 0
    for pk in sorted(one_by_one):
        written += len(stay_sync(reservation_id=pk, actor=actor))
    return written + _post_plain(plain, members, actor)


def _post_plain(plain: list[Reservation], members: dict[int, Member], actor: Principal) -> int:
    if not plain:
        return 0
    locked = {
        m.pk: m
        for m in Member.objects.select_for_update(of=("self",))
        .select_related("tier")
        .filter(pk__in=[members[r.guest_id].pk for r in plain])
        .order_by("pk")
    }
    # Someone may have posted or suspended first (they held the lock we waited for).
    late = set(
        LedgerEntry.objects.filter(
            reservation_id__in=[r.pk for r in plain], kind=Kind.EARN, reversed_by__isnull=True
        ).values_list("reservation_id", flat=True)
    )
    changed = [
        r
        for r in plain
        if r.pk in late or locked[members[r.guest_id].pk].status != Member.Status.ACTIVE
    ]
    written = sum(len(stay_sync(reservation_id=r.pk, actor=actor)) for r in changed)
    plain = [r for r in plain if r not in changed]
    if not plain:
        return written
    programme = programme_current()
    on = today()
    batch = [locked[members[r.guest_id].pk] for r in plain]
    due = set(
        LedgerEntry.objects.filter(
            member_id__in=[m.pk for m in batch], remaining__gt=0, expires_on__lte=on
        ).values_list("member_id", flat=True)
    )
    for member in batch:
        if member.pk in due:
            expire_due(member=member, on=on, actor=actor)  # not counted, as in stay_sync
    rates = _Rates({r.currency for r in plain})
    entries = []
    reasons = {}
    for reservation, member in zip(plain, batch, strict=True):
        converted = rates.amount(
            amount=reservation.total_amount, currency=reservation.currency, on=reservation.arrival
        )
        wanted = _earning(reservation, member, programme, converted)
        entries.append(
            LedgerEntry(
                member=member,
                points=wanted.points,
                remaining=wanted.points,
                **_earn_fields(reservation, wanted, programme, on),
                **actor_fields(actor),
            )
        )
        member.balance += wanted.points
        member.lifetime_points += wanted.points
        reasons[member.pk] = f"stay {reservation.confirmation_number}"
        _no_rate_warn(wanted, reservation)
    LedgerEntry.objects.bulk_create(entries)
    tier_upgrades_check(
        members=batch,
        programme=programme,
        actor=actor,
        reasons=reasons,
        also_save=("balance", "lifetime_points"),
    )
    return written + len(entries)
