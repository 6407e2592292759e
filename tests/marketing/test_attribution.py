"""Attribution: a recipient's reservation made inside the window after their message
counts (revenue in the base currency), one outside it or before the send does not; the
control group is measured from the campaign's start; the campaign's promo codes count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.marketing.models import Recipient
from crm.marketing.selectors.reports import campaign_report
from crm.marketing.services.delivery import campaign_deliver
from crm.marketing.services.offers import code_create_shared, code_redeem, offer_create
from crm.models import Reservation
from crm.services.properties import exchange_rate_set
from tests.crm.factories import make_property, make_reservation
from tests.marketing.conftest import campaign_for, opted_in_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _sent_days_ago(campaign, guest, days: int) -> None:
    Recipient.objects.filter(campaign=campaign, guest=guest).update(
        sent_at=timezone.now() - timedelta(days=days)
    )


def test_a_reservation_inside_the_window_counts_and_one_outside_does_not(marketing, smtp):
    hotel = make_property(code="ATT1", currency="EUR")
    usd_hotel = make_property(code="ATT2", currency="USD")
    exchange_rate_set(
        currency="USD",
        base_currency="EUR",
        rate=Decimal("0.5"),
        valid_from=date(2020, 1, 1),
        actor=SYSTEM,
    )
    inside = opted_in_guest(email="inside@guest.test")
    late = opted_in_guest(email="late@guest.test")
    cancelled = opted_in_guest(email="cancelled@guest.test")
    campaign = campaign_for([inside, late, cancelled], attribution_days=14)
    assert campaign_deliver(campaign_id=campaign.pk)["sent"] == 3
    _sent_days_ago(campaign, inside, 3)  # booked 3 days after the message
    _sent_days_ago(campaign, late, 20)  # booked 20 days after: outside the 14
    _sent_days_ago(campaign, cancelled, 1)
    make_reservation(property=hotel, guest=inside, total="300.00", arrival=date(2026, 6, 1))
    make_reservation(property=usd_hotel, guest=inside, total="100.00", currency="USD")
    make_reservation(property=hotel, guest=late, total="999.00")
    make_reservation(
        property=hotel, guest=cancelled, total="500.00", status=Reservation.Status.CANCELLED
    )

    report = campaign_report(actor=SYSTEM, campaign=campaign)

    a = report["groups"]["a"]
    assert (a["recipients"], a["converted_guests"], a["reservations"]) == (3, 1, 2)
    assert a["revenue"] == "350.00" and report["base_currency"] == "EUR"
    assert a["conversion_rate"] == round(1 / 3, 4)


def test_the_control_group_and_promo_codes_are_measured(marketing, smtp):
    hotel = make_property(code="ATT3", currency="EUR")
    guests = [opted_in_guest(email=f"h{n}@guest.test") for n in range(30)]
    campaign = campaign_for(guests, holdout_percent=30)
    control = list(Recipient.objects.filter(campaign=campaign, status="control"))
    assert control and len(control) < 30
    campaign_deliver(campaign_id=campaign.pk)
    make_reservation(property=hotel, guest=control[0].guest, total="200.00")
    offer = offer_create(
        key="att", name="Att", discount_kind="percent", discount_value=Decimal(10), actor=SYSTEM
    )
    code_create_shared(
        offer=offer, code="ATT10", max_uses=None, campaign_id=campaign.pk, actor=SYSTEM
    )
    sent = Recipient.objects.filter(campaign=campaign, status="sent").first()
    code_redeem(
        code="ATT10",
        reference="BK-ATT",
        amount=Decimal("100"),
        currency="EUR",
        guest_id=sent.guest_id,
        actor=SYSTEM,
    )

    groups = campaign_report(actor=SYSTEM, campaign=campaign)["groups"]

    assert groups["control"]["recipients"] == len(control)
    assert (groups["control"]["converted_guests"], groups["control"]["revenue"]) == (1, "200.00")
    assert (groups["a"]["redemptions"], groups["a"]["converted_guests"]) == (1, 1)
    assert groups["a"]["revenue"] == "90.00"  # what was paid: 100 less 10%
    assert groups["a"]["recipients"] == 30 - len(control)
