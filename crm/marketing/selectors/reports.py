"""A campaign's report: per variant (A, B and the hold-out control group) how many were
sent, delivered, opened, clicked, bounced, unsubscribed, and the conversions.

A conversion is a reservation the recipient made (``created``) within the campaign's
attribution window after their message was sent, not cancelled; for the control group
the window starts when the campaign started (they were sent nothing). Redemptions of
the campaign's promo codes count as conversions of the variant of the guest who
redeemed (or of the campaign when the guest is unknown). Revenue is in the hotel
group's base currency, converted with the rate dated on or before the arrival (a
reservation without a known rate counts as a conversion without revenue)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from crm.marketing.models import Campaign, CodeRedemption, Recipient
from crm.models import ExchangeRate, Reservation
from crm.services.common import money_round, tenant_base_currency
from tenants.access.principal import Principal

REACHED = ("sent", "delivered", "opened", "clicked", "unsubscribed", "bounced", "complained")


def _in_base(amount: Decimal, currency: str, on, base: str) -> Decimal | None:
    if not currency or currency == base:
        return money_round(amount, base)
    rate = (
        ExchangeRate.objects.filter(currency=currency, base_currency=base, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    return None if rate is None else money_round(amount * rate, base)


def campaign_report(*, actor: Principal, campaign: Campaign) -> dict[str, Any]:
    actor.require("campaign", "view")
    base = tenant_base_currency()
    window = timedelta(days=campaign.attribution_days)
    groups: dict[str, dict[str, Any]] = {}

    def group(name: str) -> dict[str, Any]:
        return groups.setdefault(
            name,
            {
                "recipients": 0,
                "statuses": {},
                "opened": 0,
                "clicked": 0,
                "converted_guests": 0,
                "reservations": 0,
                "redemptions": 0,
                "revenue": Decimal(0),
            },
        )

    rows = (
        Recipient.objects.filter(campaign=campaign)
        .values("variant", "status")
        .annotate(
            n=Count("pk"),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
    )
    for row in rows:
        name = "control" if row["status"] == "control" else (row["variant"] or "waiting")
        g = group(name)
        g["recipients"] += row["n"]
        g["statuses"][row["status"]] = g["statuses"].get(row["status"], 0) + row["n"]
        g["opened"] += row["opened"]
        g["clicked"] += row["clicked"]

    variant_of: dict[int, str] = {}
    starts: dict[int, Any] = {}
    measured = Recipient.objects.filter(campaign=campaign).filter(
        Q(status__in=REACHED) | Q(status="control")
    )
    for guest_id, variant, status, sent_at in measured.values_list(
        "guest_id", "variant", "status", "sent_at"
    ):
        start = campaign.started_at if status == "control" else sent_at
        if start is None:
            continue
        variant_of[guest_id] = "control" if status == "control" else variant
        starts[guest_id] = start
    converted: dict[str, set[int]] = {}
    if starts:
        reservations = (
            Reservation.objects.filter(guest_id__in=list(starts))
            .exclude(status=Reservation.Status.CANCELLED)
            .values_list("guest_id", "created", "total_amount", "currency", "arrival")
        )
        for guest_id, created, amount, currency, arrival in reservations.iterator():
            start = starts[guest_id]
            if not start <= created <= start + window:
                continue
            g = group(variant_of[guest_id])
            g["reservations"] += 1
            converted.setdefault(variant_of[guest_id], set()).add(guest_id)
            revenue = _in_base(amount, currency, arrival, base)
            if revenue is not None:
                g["revenue"] += revenue
    for redemption in CodeRedemption.objects.filter(code__campaign=campaign):
        name = variant_of.get(redemption.guest_id or 0, "codes")
        g = group(name)
        g["redemptions"] += 1
        if redemption.guest_id:
            converted.setdefault(name, set()).add(redemption.guest_id)
        net = redemption.amount - redemption.discount
        revenue = _in_base(net, redemption.currency, redemption.redeemed_at.date(), base)
        if revenue is not None:
            g["revenue"] += revenue
    for name, g in groups.items():
        g["converted_guests"] = len(converted.get(name, ()))
        g["conversion_rate"] = (
            round(g["converted_guests"] / g["recipients"], 4) if g["recipients"] else 0.0
        )
        g["revenue"] = str(money_round(g["revenue"], base))
    return {
        "campaign": campaign.pk,
        "status": campaign.status,
        "base_currency": base,
        "attribution_days": campaign.attribution_days,
        "ab_winner": campaign.ab_winner,
        "groups": groups,
    }
