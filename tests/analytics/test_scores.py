"""Guest scores: RFM quintiles equal the reference computation, segments and lifecycle
follow their rules, the churn risk without a model is the labelled rule, and a second run
gives the same rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from crm.analytics.models import GuestScore
from crm.analytics.services.scores import scores_refresh
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tests.analytics.conftest import TODAY, guests_bulk, stays_bulk
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_rfm_quintiles_equal_the_reference_sql(hotel):
    # Ten guests: guest i stayed i times, the last time i*20 days ago, for i*100 EUR each.
    guests = guests_bulk(10)
    rows = []
    for i, guest in enumerate(guests, start=1):
        for n in range(i):
            rows.append(
                {
                    "property": hotel,
                    "guest": guest,
                    "arrival": TODAY - timedelta(days=i * 20 + n * 3),
                    "total": "100.00",
                }
            )
    stays_bulk(rows)
    prospect = make_guest(surname="Never")

    result = scores_refresh(actor=SYSTEM, today=TODAY)

    assert result == {"guests": 11, "with_stays": 10, "model_version": 0}
    scores = {s.guest_id: s for s in GuestScore.objects.all()}
    # Reference: each dimension ranked on its own (two guests per quintile of ten).
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id, (rank() OVER (ORDER BY last_stay, id) + 1) / 2,
                          (rank() OVER (ORDER BY stays, id) + 1) / 2,
                          (rank() OVER (ORDER BY revenue, id) + 1) / 2
               FROM crm_guest WHERE stays > 0"""
        )
        reference = {row[0]: row[1:] for row in cursor.fetchall()}
    assert {g: (s.recency, s.frequency, s.monetary) for g, s in scores.items() if s.recency} == (
        reference
    )
    # The most frequent guest stayed least recently: frequency 5, recency 1.
    last = scores[guests[-1].pk]
    assert (last.recency, last.frequency, last.monetary) == (1, 5, 5)
    assert last.segment == "at_risk"
    first = scores[guests[0].pk]
    assert (first.recency, first.frequency, first.segment) == (5, 1, "new")
    assert first.historical_value == Decimal("100.00") and first.currency == "EUR"
    assert first.lifecycle == "first_stay" and last.lifecycle == "active"
    none = scores[prospect.pk]
    assert (none.recency, none.segment, none.lifecycle, none.churn_risk) == (
        None,
        "",
        "prospect",
        None,
    )


def test_without_a_model_the_risk_is_the_labelled_rule(hotel):
    [recent, old, regular] = guests_bulk(3)
    stays_bulk(
        [
            {"property": hotel, "guest": recent, "arrival": TODAY - timedelta(days=30)},
            {"property": hotel, "guest": old, "arrival": TODAY - timedelta(days=800)},
            *[
                {"property": hotel, "guest": regular, "arrival": TODAY - timedelta(days=d)}
                for d in (400, 300, 200)
            ],
        ]
    )

    scores_refresh(actor=SYSTEM, today=TODAY)

    scores = {s.guest_id: s for s in GuestScore.objects.all()}
    assert scores[old.pk].churn_source == "rules"
    assert scores[old.pk].churn_risk == Decimal("1.000")  # past twice the horizon
    assert scores[old.pk].lifecycle == "lapsed"
    assert scores[old.pk].churn_reasons == [
        {"feature": "recency_days", "value": 801.0, "weight": None},
        {"feature": "stays", "value": 1.0, "weight": None},
    ]
    # 31 days of 730, one stay: 0.042; 201 days, three stays: 0.275 / 1.5.
    assert scores[recent.pk].churn_risk == Decimal("0.042")
    assert scores[regular.pk].churn_risk == Decimal("0.184")
    assert scores[regular.pk].churn_model_version is None


def test_a_second_run_gives_the_same_rows_and_drops_erased_guests(hotel):
    guests = guests_bulk(4)
    stays_bulk(
        [
            {"property": hotel, "guest": g, "arrival": TODAY - timedelta(days=10 * (i + 1))}
            for i, g in enumerate(guests)
        ]
    )
    scores_refresh(actor=SYSTEM, today=TODAY)
    first = list(GuestScore.objects.values_list("guest_id", "recency", "segment", "churn_risk"))
    guests[0].erased_at = guests[0].created
    guests[0].save(update_fields=["erased_at"])

    scores_refresh(actor=SYSTEM, today=TODAY)

    again = list(GuestScore.objects.values_list("guest_id", "recency", "segment", "churn_risk"))
    assert len(first) == 4 and guests[0].pk not in [row[0] for row in again]
    assert len(again) == 3


def test_only_an_administrator_recomputes(hotel, make_user):
    with pytest.raises(AccessDenied):
        scores_refresh(actor=Principal.of(make_user("general_manager")), today=TODAY)


def test_scores_are_copied_whole_with_their_json_and_snapshots(analytics_on):
    """The scores are written by COPY (issue 19: bulk_create quoted every JSON value into
    an array literal): lists and labels with quotes and backslashes come back as they
    were, a second run replaces the rows, and the month's snapshots are written."""
    from crm.analytics.models import SegmentSnapshot
    from tests.crm.factories import make_property

    odd = make_property(code="ODD1", name='The "Quoted" \\ Hotel, Room\tOne')
    plain = make_property(code="PLN1")
    guests = guests_bulk(3)
    stays_bulk(
        [{"property": odd, "guest": guests[0], "arrival": TODAY - timedelta(days=400)}]
        + [{"property": plain, "guest": g, "arrival": TODAY - timedelta(days=30)} for g in guests]
    )

    scores_refresh(actor=SYSTEM, today=TODAY)
    scores_refresh(actor=SYSTEM, today=TODAY)

    assert GuestScore.objects.count() == 3
    offers = {s.guest_id: s.offers for s in GuestScore.objects.all()}
    [offer] = [o for o in offers[guests[1].pk] if o["kind"] == "hotel"]
    assert offer["label"] == 'The "Quoted" \\ Hotel, Room\tOne'
    assert offer["because"] == {"kind": "hotel", "id": plain.pk, "label": str(plain.name)}
    reasons = GuestScore.objects.get(guest=guests[2]).churn_reasons
    assert isinstance(reasons, list)
    assert {r["feature"] for r in reasons} <= {"recency_days", "stays"}
    month = TODAY.replace(day=1)
    assert SegmentSnapshot.objects.filter(month=month).count() == 3
