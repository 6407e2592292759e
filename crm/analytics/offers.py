"""Next best offers: item-to-item co-occurrence over the group's stays. Items are what a
stay is made of (the hotel, the room type, the rate plan); two items co-occur when one
guest has both in their history. A guest's candidates are the items they never had,
scored by the cosine similarity to the items they had, summed; the reason names the item
that contributed most ("guests who booked X also booked Y").

The popularity baseline (the most common items the guest never had) is here too, so the
offline evaluation compares both on the same held-out stays."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Item = tuple[str, int]  # ("hotel" | "room_type" | "rate_plan", id)


@dataclass(frozen=True)
class Offer:
    item: Item
    score: float
    because: Item | None


class CoOccurrence:
    def __init__(self, histories: Mapping[int, set[Item]]):
        self.counts: Counter[Item] = Counter()
        self.pairs: dict[Item, Counter[Item]] = defaultdict(Counter)
        for items in histories.values():
            self.counts.update(items)
            for a in items:
                for b in items:
                    if a != b:
                        self.pairs[a][b] += 1

    def recommend(self, owned: Iterable[Item], k: int) -> list[Offer]:
        scores: dict[Item, float] = defaultdict(float)
        best: dict[Item, tuple[float, Item]] = {}
        owned = set(owned)
        for a in owned:
            for b, together in self.pairs.get(a, {}).items():
                if b in owned:
                    continue
                weight = together / math.sqrt(self.counts[a] * self.counts[b])
                scores[b] += weight
                if weight > best.get(b, (-1.0, a))[0]:
                    best[b] = (weight, a)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [Offer(item=i, score=round(s, 4), because=best[i][1]) for i, s in ranked]

    def popular(self, owned: Iterable[Item], k: int) -> list[Offer]:
        owned = set(owned)
        ranked = sorted(
            ((i, n) for i, n in self.counts.items() if i not in owned),
            key=lambda kv: (-kv[1], kv[0]),
        )[:k]
        return [Offer(item=i, score=float(n), because=None) for i, n in ranked]


def hit_rates(stays: Mapping[int, list[set[Item]]], *, k: int) -> dict[str, float | int]:
    """Offline evaluation: for every guest with two stays or more, learn from every stay
    but each guest's last, then ask whether an item of the last stay that the guest never
    had before is among the top ``k`` offers (co-occurrence vs popularity)."""
    history = {g: set().union(*s[:-1]) for g, s in stays.items() if len(s) > 1}
    history.update({g: set().union(*s) for g, s in stays.items() if len(s) == 1})
    model = CoOccurrence(history)
    cases = hits = popular_hits = 0
    for guest, guest_stays in stays.items():
        if len(guest_stays) < 2:
            continue
        new = guest_stays[-1] - history[guest]
        if not new:
            continue
        cases += 1
        hits += any(o.item in new for o in model.recommend(history[guest], k))
        popular_hits += any(o.item in new for o in model.popular(history[guest], k))
    return {
        "k": k,
        "cases": cases,
        "hit_rate": round(hits / cases, 4) if cases else 0.0,
        "popularity_hit_rate": round(popular_hits / cases, 4) if cases else 0.0,
    }


def stays_by_guest() -> dict[int, list[set[Item]]]:
    """Every guest's stays, oldest first, as sets of items (stays the guest is on)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT rg.guest_id, r.property_id, r.room_type_id, r.rate_plan_id
            FROM crm_reservationguest rg
            JOIN crm_reservation r ON r.id = rg.reservation_id
            WHERE r.status IN ('in_house', 'checked_out')
            ORDER BY rg.guest_id, r.arrival, r.id
            """
        )
        out: dict[int, list[set[Item]]] = defaultdict(list)
        for guest_id, hotel, room_type, rate_plan in cursor.fetchall():
            items: set[Item] = {("hotel", hotel)}
            if room_type:
                items.add(("room_type", room_type))
            if rate_plan:
                items.add(("rate_plan", rate_plan))
            out[guest_id].append(items)
    return dict(out)


def item_labels(items: Iterable[Item]) -> dict[Item, str]:
    """Names of the items (hotel names; room types and rate plans with their hotel)."""
    from crm.models import Property, RatePlan, RoomType

    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, pk in items:
        wanted[kind].add(pk)
    labels: dict[Item, str] = {}
    for p in Property.objects.filter(pk__in=wanted["hotel"]):
        labels[("hotel", p.pk)] = str(p.name)
    for r in RoomType.objects.filter(pk__in=wanted["room_type"]).select_related("property"):
        labels[("room_type", r.pk)] = f"{r.name} ({r.property.name})"
    for rp in RatePlan.objects.filter(pk__in=wanted["rate_plan"]).select_related("property"):
        labels[("rate_plan", rp.pk)] = f"{rp.name} ({rp.property.name})"
    return labels
