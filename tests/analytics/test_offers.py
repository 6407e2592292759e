"""Next best offers: on a group whose guests have known tastes, co-occurrence finds the
held-out stays' new items far more often than popularity; the stored offers carry a
reason naming the item they come from."""

from __future__ import annotations

import pytest

from crm.analytics.models import GuestScore
from crm.analytics.offers import CoOccurrence, hit_rates, stays_by_guest
from crm.analytics.services.scores import scores_refresh
from crm.models import Property
from tests.analytics.conftest import TODAY, group_with_preferences
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_co_occurrence_beats_popularity_on_held_out_stays(analytics_on):
    group_with_preferences()

    result = hit_rates(stays_by_guest(), k=3)

    assert result["cases"] > 50, result
    assert result["hit_rate"] > result["popularity_hit_rate"] + 0.2, result
    assert result["hit_rate"] > 0.7, result


def test_offers_are_stored_with_their_reason(analytics_on):
    group_with_preferences()
    family_hotel = Property.objects.get(code="GRP3")

    scores_refresh(actor=SYSTEM, today=TODAY)

    # A family guest who only ever stayed at hotel 3 is offered hotel 4 (the other family
    # hotel) before the business hotels.
    family = (
        GuestScore.objects.filter(guest__reservations__property=family_hotel)
        .exclude(guest__reservations__property__code__in=["GRP1", "GRP2", "GRP4"])
        .first()
    )
    assert family is not None
    offers = family.offers
    assert len(offers) == 3
    hotels = [o for o in offers if o["kind"] == "hotel"]
    assert hotels and Property.objects.get(pk=hotels[0]["id"]).code == "GRP4"
    assert hotels[0]["because"]["kind"] in ("hotel", "room_type", "rate_plan")
    assert hotels[0]["because"]["label"]


def test_recommend_skips_what_the_guest_had_and_ranks_by_similarity():
    a, b, c, d = ("hotel", 1), ("hotel", 2), ("room_type", 3), ("rate_plan", 4)
    model = CoOccurrence({1: {a, b}, 2: {a, b}, 3: {a, c}, 4: {d}, 5: {d}, 6: {d}})

    offers = model.recommend({a}, k=5)

    assert [o.item for o in offers] == [b, c]
    assert offers[0].because == a and offers[0].score == pytest.approx(2 / (3 * 2) ** 0.5, 1e-3)
    assert [o.item for o in model.popular({a}, k=2)] == [d, b]
