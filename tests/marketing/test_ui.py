"""The marketer's screens: segments with their counts and the live count of the
conditions being edited, a template's preview in each language, a campaign's report;
in English and Chinese."""

from __future__ import annotations

import pytest
from django.utils import translation

from crm.marketing.models import Campaign
from crm.marketing.services.segments import segment_create
from crm.marketing.services.templates import template_create
from tests.conftest import tenant_client
from tests.crm.factories import make_guest
from tests.marketing.conftest import TEMPLATE
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiled():
    from django.core.management import call_command

    call_command(
        "compilemessages",
        verbosity=0,
        locale=["en", "zh_Hans", "zh_Hant"],
        ignore_patterns=[".venv", "staticfiles"],
    )
    translation.trans_real._translations = {}


def test_segments_show_counts_and_the_editor_counts_live(marketing):
    for n in range(2):
        make_guest(surname=f"Fr{n}", nationality="FR")
    make_guest(surname="De", nationality="DE")
    segment_create(
        name="French guests",
        definition={"conditions": [{"field": "nationality", "op": "eq", "value": "FR"}]},
        actor=SYSTEM,
    )
    client = tenant_client(marketing)
    page = client.get("/marketing/segments/")
    assert page.status_code == 200
    assert "French guests" in page.content.decode() and "<td>2</td>" in page.content.decode()
    live = client.post(
        "/marketing/segments/count/", {"field_0": "nationality", "op_0": "ne", "value_0": "FR"}
    )
    assert live.content.decode().strip() == "1 guest matches."
    bad = client.post("/marketing/segments/count/", {"field_0": "nope", "op_0": "eq"})
    assert "nope" in bad.content.decode()
    saved = client.post(
        "/marketing/segments/",
        {"name": "Germans", "field_0": "nationality", "op_0": "eq", "value_0": "DE"},
    )
    assert saved.status_code == 302
    assert "Germans" in client.get("/marketing/segments/").content.decode()


def test_template_preview_in_each_language_and_a_report_in_chinese(marketing, compiled):
    guest = make_guest(given_name="Mei", surname="Chen")
    template = template_create(key="spring", name="Spring", contents=TEMPLATE, actor=SYSTEM)
    client = tenant_client(marketing)
    page = client.get(f"/marketing/templates/{template.pk}/?guest={guest.pk}").content.decode()
    assert "Spring at Mei&#x27;s favourite hotel" in page and "Chen，春季优惠" in page
    segment = segment_create(name="All", actor=SYSTEM)
    campaign = Campaign.objects.create(name="Spring", segment=segment, template=template)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/"})
    report = client.get(f"/marketing/campaigns/{campaign.pk}/")
    assert report.status_code == 200
    assert "转化率" in report.content.decode() and "尚未发送。" in report.content.decode()


def test_a_marketer_schedules_a_campaign_in_the_hotel_groups_time_zone(marketing):
    template = template_create(key="spring", name="Spring", contents=TEMPLATE, actor=SYSTEM)
    segment = segment_create(name="All", actor=SYSTEM)
    client = tenant_client(marketing)
    form = client.get("/marketing/campaigns/").content.decode()
    assert 'name="send_at"' in form and "Spring" in form
    response = client.post(
        "/marketing/campaigns/",
        {
            "name": "Spring",
            "segment": segment.pk,
            "template": template.pk,
            "send_at": "2030-03-01T09:00",
            "holdout_percent": "10",
        },
    )
    assert response.status_code == 302, response.content[:500]
    campaign = Campaign.objects.get(name="Spring")
    # Alpha Hotels keep Paris time: 09:00 there is 08:00 UTC in March.
    assert campaign.scheduled_at.isoformat() == "2030-03-01T08:00:00+00:00"
    assert (campaign.status, campaign.holdout_percent) == ("scheduled", 10)
    bad = client.post(
        "/marketing/campaigns/",
        {"name": "X", "segment": segment.pk, "template": template.pk, "send_at": "soon"},
    )
    assert bad.status_code == 400 and "Give a date and time." in bad.content.decode()
