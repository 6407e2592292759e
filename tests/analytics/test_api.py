"""/api/v1/analytics/: scores (filters, ordering, detail with reasons and offers), the
churn model, the refresh, reports as JSON and CSV; rights, the module switch and bad
input answered in the house format."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest

from crm.analytics.services.churn import churn_model_train
from crm.analytics.services.scores import scores_refresh
from metadata.services.modules import module_set_enabled
from tests.access.conftest import client_for
from tests.analytics.conftest import TODAY, guests_bulk, stays_bulk
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
BASE = "/api/v1/analytics/"


@pytest.fixture
def scored(hotel):
    old, recent = guests_bulk(2, nationality="CN")
    stays_bulk(
        [
            {"property": hotel, "guest": old, "arrival": TODAY - timedelta(days=700)},
            {"property": hotel, "guest": recent, "arrival": TODAY - timedelta(days=20)},
            {"property": hotel, "guest": recent, "arrival": TODAY - timedelta(days=60)},
        ]
    )
    churn_model_train(actor=SYSTEM, today=TODAY)
    scores_refresh(actor=SYSTEM, today=TODAY)
    return {"old": old, "recent": recent}


def test_scores_list_filters_orders_and_details(scored, analytics_on):
    admin = tenant_client(analytics_on)

    page = admin.get(BASE + "scores/?ordering=-churn_risk")
    assert page.status_code == 200, page.content
    rows = page.json()["results"]
    assert [r["guest"] for r in rows] == [scored["old"].pk, scored["recent"].pk]
    assert rows[0]["churn_source"] == "rules" and rows[0]["lifecycle"] == "lapsing"
    assert rows[0]["churn_reasons"][0] == {
        "feature": "recency_days",
        "value": 701.0,
        "weight": None,
        "text": "Days since the last stay: 701",
    }
    lost = admin.get(BASE + "scores/?segment=" + rows[0]["segment"]).json()["results"]
    assert [r["guest"] for r in lost] == [scored["old"].pk]
    risky = admin.get(BASE + "scores/?min_churn_risk=0.5").json()["results"]
    assert [r["guest"] for r in risky] == [scored["old"].pk]

    one = admin.get(BASE + f"scores/{scored['recent'].pk}/")
    assert one.status_code == 200
    assert one.json()["segment_label"] and one.json()["historical_value"] == "400.00"
    assert admin.get(BASE + "scores/999999/").status_code == 404


def test_labels_and_reasons_follow_the_readers_language(scored, analytics_on):
    admin = tenant_client(analytics_on)

    body = admin.get(BASE + f"scores/{scored['old'].pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert body["lifecycle_label"] == "流失中"
    assert body["churn_reasons"][0]["text"] == "距上次入住天数：701"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("segment=best", "segment"),
        ("ordering=surname", "ordering"),
        ("min_churn_risk=2", "min_churn_risk"),
        ("max_churn_risk=nan", "max_churn_risk"),
        ("limit=0", "limit"),
    ],
)
def test_bad_list_input_is_a_400_naming_the_field(analytics_on, query, field):
    response = tenant_client(analytics_on).get(BASE + "scores/?" + query)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field


def test_the_module_switched_off_closes_every_door(scored, analytics_on):
    module_set_enabled(key="analytics", enabled=False, actor=SYSTEM)
    admin = tenant_client(analytics_on)

    for path in ("scores/", "churn-model/", "reports/cancellations/"):
        response = admin.get(BASE + path)
        assert response.status_code == 403, path
        assert response.json()["errors"][0]["code"] == "module_disabled"


def test_churn_model_versions_and_the_horizon(scored, analytics_on):
    admin = tenant_client(analytics_on)

    body = admin.get(BASE + "churn-model/").json()
    assert body["churn_horizon_months"] == 12
    assert body["latest"]["status"] == "not_enough_data"
    assert "at least 200" in body["latest"]["report"]["reason"]
    changed = admin.patch(
        BASE + "churn-model/",
        json.dumps({"churn_horizon_months": 6}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["churn_horizon_months"] == 6
    bad = admin.patch(
        BASE + "churn-model/",
        json.dumps({"churn_horizon_months": 0}),
        content_type="application/json",
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "churn_horizon_months")


def test_refresh_is_queued_once_the_request_commits(
    analytics_on, django_capture_on_commit_callbacks
):
    admin = tenant_client(analytics_on)

    with (
        mock.patch("crm.analytics.tasks.analytics_refresh.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin.post(BASE + "refresh/", "{}", content_type="application/json")

    assert (response.status_code, response.json()) == (202, {"queued": True})
    delay.assert_called_once_with(analytics_on.schema_name, True)


def test_reports_as_json_and_csv(scored, analytics_on):
    admin = tenant_client(analytics_on)

    body = admin.get(BASE + "reports/length_of_stay/?nationality=CN").json()
    assert body["columns"] == ["nights", "bookings", "share"]
    assert body["rows"][1] == ["2", 3, "1.0000"] and body["currency"] == "EUR"
    as_csv = admin.get(BASE + "reports/length_of_stay/?format=csv")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.decode().splitlines()[:3] == [
        "nights,bookings,share",
        "1,0,0.0000",
        "2,3,1.0000",
    ]
    by_accept = admin.get(BASE + "reports/length_of_stay/", HTTP_ACCEPT="text/csv")
    assert by_accept.content == as_csv.content


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-13-01", "start"),
        ("start=20260301", "start"),
        ("end=2026-W05-6", "end"),
        # Digits of other scripts match Python's \d; the OpenAPI date format is ASCII.
        ("start=%D9%A2%D9%A0%D9%A2%D9%A6-%D9%A0%D9%A1-%D9%A0%D9%A1", "start"),
        ("end=2026-1-5", "end"),
        ("start=2026-05-01&end=2026-04-01", "end"),
        ("property=abc", "property"),
        ("nationality=china", "nationality"),
        ("segment=vip", "segment"),
        ("channel=" + "x" * 41, "channel"),
    ],
)
def test_bad_report_input_is_a_400_naming_the_field(analytics_on, query, field):
    response = tenant_client(analytics_on).get(BASE + "reports/bookings_by_month/?" + query)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field


def test_an_unknown_report_is_a_404_even_as_csv(analytics_on):
    response = tenant_client(analytics_on).get(BASE + "reports/nothing/?format=csv")

    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "name"


def test_rights_of_the_seeded_roles(scored, analytics_on, make_user):
    sales = client_for(make_user("sales"), analytics_on)
    desk = client_for(make_user("front_office"), analytics_on)

    assert sales.get(BASE + "reports/cancellations/").status_code == 200
    assert sales.get(BASE + "reports/cancellations/?format=csv").status_code == 403
    assert sales.get(BASE + "churn-model/").status_code == 403
    assert desk.get(BASE + "scores/").status_code == 200
    assert desk.get(BASE + "reports/cancellations/").status_code == 403
    refused = sales.post(BASE + "refresh/", "{}", content_type="application/json")
    assert refused.status_code == 403


def test_the_tenant_schema_shows_the_analytics_routes_only_while_the_module_is_on(
    analytics_on,
):
    admin = tenant_client(analytics_on)
    paths = admin.get("/api/v1/schema/?format=json").json()["paths"]
    report = paths["/api/v1/analytics/reports/{name}/"]["get"]
    assert set(report["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert set(report["responses"]["400"]["content"]) == {"application/json"}

    module_set_enabled(key="analytics", enabled=False, actor=SYSTEM)

    paths = admin.get("/api/v1/schema/?format=json").json()["paths"]
    assert not [p for p in paths if p.startswith("/api/v1/analytics/")]
    assert "/api/v1/guests/" in paths


def test_administrators_set_warnings_and_readers_of_reports_list_them(
    hotel, analytics_on, make_user
):
    admin = tenant_client(analytics_on)
    body = {
        "name": "OTA cancellations up",
        "kind": "report",
        "measure": "cancellation_rate",
        "property_id": hotel.pk,
        "channel": "OTA",
        "comparison": "rise_pct",
        "threshold": "20",
    }

    made = admin.post(BASE + "warnings/", json.dumps(body), content_type="application/json")
    bad = admin.post(
        BASE + "warnings/",
        json.dumps({**body, "property_id": None}),
        content_type="application/json",
    )
    sales = client_for(make_user("sales"), analytics_on)
    listed = sales.get(BASE + "warnings/")
    refused = sales.post(BASE + "warnings/", json.dumps(body), content_type="application/json")

    assert made.status_code == 201, made.content
    assert made.json()["threshold"] == "20.0000" and made.json()["window_days"] == 7
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "property_id")
    assert listed.status_code == 200
    assert [r["name"] for r in listed.json()["results"]] == ["OTA cancellations up"]
    assert listed.json()["results"][0]["comparison"] == "rise_pct"
    assert refused.status_code == 403


def test_a_hidden_field_is_left_out_and_cannot_be_filtered_or_ordered_on(
    scored, analytics_on, make_user
):
    from tenants.access.models import Role
    from tenants.access.services import role_field_permission_set

    role_field_permission_set(
        role=Role.objects.get(key="front_office"), object_api_name="guest_score",
        field_api_name="churn_risk", access="hidden", actor=SYSTEM,
    )  # fmt: skip
    desk = client_for(make_user("front_office"), analytics_on)

    rows = desk.get(BASE + "scores/").json()["results"]
    ordered = desk.get(BASE + "scores/?ordering=-churn_risk")
    filtered = desk.get(BASE + "scores/?min_churn_risk=0.5")

    assert len(rows) == 2 and all("churn_risk" not in r and "segment" in r for r in rows)
    assert (ordered.status_code, ordered.json()["errors"][0]["field"]) == (400, "churn_risk")
    assert (filtered.status_code, filtered.json()["errors"][0]["field"]) == (400, "churn_risk")


def test_a_hotel_scoped_reader_sees_the_scores_of_their_hotels_guests_only(
    scored, analytics_on, make_user
):
    from tenants.access.services import user_property_scope_set
    from tests.crm.factories import make_property

    elsewhere = make_property(code="ANA9")
    [stranger] = guests_bulk(1)
    stays_bulk([{"property": elsewhere, "guest": stranger, "arrival": TODAY}])
    scores_refresh(actor=SYSTEM, today=TODAY)
    user = make_user("front_office")
    user_property_scope_set(user=user, property_ids=[elsewhere.pk], actor=SYSTEM)
    desk = client_for(user, analytics_on)

    listed = [r["guest"] for r in desk.get(BASE + "scores/").json()["results"]]

    assert stranger.pk in listed and scored["old"].pk not in listed
    assert desk.get(BASE + f"scores/{scored['old'].pk}/").status_code == 404
