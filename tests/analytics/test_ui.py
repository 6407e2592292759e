"""The analytics screens: a report's chart (server-side SVG, no script) with the same
figures as a table, in English and Chinese; the churn model's training report; the scores
on the guest profile; the module switch and the rights."""

from __future__ import annotations

from datetime import date

import pytest

from crm.analytics.services.churn import churn_model_train
from crm.analytics.services.scores import scores_refresh
from metadata.services.modules import module_set_enabled
from saas.ui.analytics.charts import bar_chart, line_chart
from tests.access.conftest import client_for
from tests.analytics.conftest import TODAY, churn_history, guests_bulk, stays_bulk
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(hotel):
    [guest] = guests_bulk(1, nationality="CN")
    stays_bulk(
        [
            {"property": hotel, "guest": guest, "arrival": date(2026, 3, 2), "nights": 2},
            {"property": hotel, "guest": guest, "arrival": date(2026, 4, 2), "nights": 3},
        ]
    )
    return guest


def test_a_report_is_a_chart_and_the_same_figures_as_a_table(booked, analytics_on):
    page = tenant_client(analytics_on).get("/analytics/?report=bookings_by_month")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "<polyline" in html
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert "<td>2026-03</td><td>1</td><td>2</td><td>200.00</td>" in html
    assert "<td>2026-04</td><td>1</td><td>3</td><td>200.00</td>" in html
    assert "bookings: 2026-03 1, 2026-04 1" in html  # the chart's description


def test_screens_speak_chinese(booked, analytics_on):
    client = tenant_client(analytics_on)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/"})

    page = client.get("/analytics/?report=length_of_stay").content.decode()

    assert "入住时长（晚）" in page and "<rect" in page


def test_bad_filters_are_named_on_the_page(analytics_on):
    page = tenant_client(analytics_on).get("/analytics/?report=nothing&start=tomorrow")

    assert page.status_code == 400
    html = page.content.decode()
    assert "Pick a report from the list." in html and "Give dates as YYYY-MM-DD." in html


def test_the_churn_screen_shows_the_training_report(hotel, analytics_on):
    churn_history(hotel=hotel, guests=600)
    churn_model_train(actor=SYSTEM, today=TODAY)

    html = tenant_client(analytics_on).get("/analytics/churn-model/").content.decode()

    assert 'data-status="trained"' in html and 'data-field="auc"' in html
    assert "<rect" in html  # feature importances


def test_the_churn_screen_says_when_there_is_not_enough_data(booked, analytics_on):
    churn_model_train(actor=SYSTEM, today=TODAY)

    html = tenant_client(analytics_on).get("/analytics/churn-model/").content.decode()

    assert 'data-status="not_enough_data"' in html and "at least 200" in html


def test_the_guest_profile_shows_scores_and_offers(booked, analytics_on):
    scores_refresh(actor=SYSTEM, today=TODAY)

    html = tenant_client(analytics_on).get(f"/guests/{booked.pk}/").content.decode()

    assert 'data-analytics="scores"' in html
    assert 'data-field="analytics.segment"' in html and 'data-field="analytics.churn_risk"' in html


def test_module_off_and_rights(booked, analytics_on, make_user):
    desk = client_for(make_user("front_office"), analytics_on)
    assert desk.get("/analytics/").status_code == 403
    module_set_enabled(key="analytics", enabled=False, actor=SYSTEM)
    admin = tenant_client(analytics_on)
    assert admin.get("/analytics/").status_code == 403
    assert 'data-analytics="scores"' not in admin.get(f"/guests/{booked.pk}/").content.decode()


def test_charts_escape_their_text_and_scale_to_a_round_top():
    svg = bar_chart(title="<b>", labels=["a&b", "c"], values=[3, 7])
    assert "&lt;b&gt;" in svg and "a&amp;b" in svg and "<b>" not in svg
    assert ">10</text>" in svg  # axis top: 7 rounded up to 10
    line = line_chart(title="t", labels=["x", "y"], series={"s": [0, 0]})
    assert "<polyline" in line and ">1</text>" in line


def test_an_administrator_adds_a_warning_on_the_screen(hotel, analytics_on, make_user):
    admin = tenant_client(analytics_on)
    form = {
        "name": "VIP at risk", "kind": "guest_churn", "comparison": "above",
        "threshold": "0.7", "window_days": "7", "min_vip_level": "1",
    }  # fmt: skip

    added = admin.post("/analytics/warnings/", form)
    bad = admin.post("/analytics/warnings/", {**form, "threshold": "NaN"})
    worse = admin.post("/analytics/warnings/", {**form, "kind": "report", "measure": "adr"})
    page = admin.get("/analytics/warnings/").content.decode()
    sales = client_for(make_user("sales"), analytics_on)

    assert added.status_code == 302
    assert "<td>VIP at risk</td>" in page and "VIP ≥ 1" in page
    assert bad.status_code == 400 and 'data-error="threshold"' in bad.content.decode()
    assert worse.status_code == 400 and 'data-error="property_id"' in worse.content.decode()
    assert sales.get("/analytics/warnings/").status_code == 200
    assert 'name="threshold"' not in sales.get("/analytics/warnings/").content.decode()
    assert sales.post("/analytics/warnings/", form).status_code == 403


def test_an_administrator_sets_the_horizon_and_asks_for_a_retraining(
    analytics_on, make_user, django_capture_on_commit_callbacks
):
    from unittest import mock

    from crm.analytics.services.churn import settings_current

    admin = tenant_client(analytics_on)

    saved = admin.post("/analytics/churn-model/", {"churn_horizon_months": "6"})
    bad = admin.post("/analytics/churn-model/", {"churn_horizon_months": "0"})
    with (
        mock.patch("crm.analytics.tasks.analytics_refresh.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        started = admin.post("/analytics/churn-model/", {"refresh": "1"})
    manager = client_for(make_user("general_manager"), analytics_on)

    assert saved.status_code == 200 and settings_current().churn_horizon_months == 6
    assert bad.status_code == 400 and "from 1 to 60" in bad.content.decode()
    assert started.status_code == 200 and delay.call_count == 1
    assert manager.get("/analytics/churn-model/").status_code == 200
    assert manager.post("/analytics/churn-model/", {"refresh": "1"}).status_code == 403
