"""The sweeper starts due campaigns and decides due A/B tests; SMS campaigns go through
the provider interface with consent; API keys need the module's scopes; one hotel
group never sees another's marketing data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.marketing.models import Campaign, Recipient
from crm.marketing.services.campaigns import campaign_create, campaign_schedule
from crm.marketing.services.delivery import campaign_deliver
from crm.marketing.services.segments import segment_create
from crm.marketing.services.templates import template_create
from crm.marketing.tasks import sweep
from crm.services.guests import guest_consent_record
from metadata.services.modules import module_set_enabled
from metadata.workflows.messaging import LocalSmsProvider
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.conftest import PASSWORD
from tests.crm.factories import make_guest
from tests.marketing.conftest import TEMPLATE, opted_in_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _draft(guests, **fields) -> Campaign:
    template = template_create(key="t", name="T", contents=TEMPLATE, actor=SYSTEM)
    segment = segment_create(
        name="L", kind="static", guest_ids=[g.pk for g in guests], actor=SYSTEM
    )
    return campaign_create(name="C", segment=segment, template=template, actor=SYSTEM, **fields)


def test_the_sweeper_starts_a_due_campaign_and_not_a_later_one(marketing, smtp):
    guest = opted_in_guest(email="due@guest.test")
    campaign = _draft([guest])
    later = timezone.now() + timedelta(hours=2)
    campaign_schedule(campaign=campaign, at=later, actor=SYSTEM)
    assert sweep()["started"] == []
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    assert sweep()["started"] == [campaign.pk]
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"
    assert Recipient.objects.filter(campaign=campaign).count() == 1
    assert sweep()["started"] == []  # a second sweep adds nothing


def test_the_sweeper_decides_an_ab_test_when_its_wait_is_over(marketing, smtp):
    guests = [opted_in_guest(email=f"w{n}@guest.test") for n in range(20)]
    campaign = _draft(guests, ab_sample_percent=50, subject_b={"en": "B"}, ab_wait_minutes=60)
    campaign_schedule(campaign=campaign, actor=SYSTEM)
    sweep()
    campaign_deliver(campaign_id=campaign.pk)
    assert sweep()["decided"] == []
    Campaign.objects.filter(pk=campaign.pk).update(ab_decide_at=timezone.now())
    assert sweep()["decided"] == [campaign.pk]
    assert not Recipient.objects.filter(campaign=campaign, variant="").exists()


def test_an_sms_campaign_needs_the_sms_opt_in(marketing, settings):
    settings.ATRIUM_SMS_PROVIDER = "metadata.workflows.messaging.LocalSmsProvider"
    LocalSmsProvider.sent.clear()
    texting = make_guest(surname="Sms", phones=["+33612345678"])
    guest_consent_record(
        guest=texting, channel="sms", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    email_only = opted_in_guest(email="e@guest.test", phones=["+33612345679"])
    campaign = _draft([texting, email_only], channel="sms")
    campaign_schedule(campaign=campaign, actor=SYSTEM)
    sweep()
    assert campaign_deliver(campaign_id=campaign.pk)["sent"] == 1
    (message,) = LocalSmsProvider.sent
    assert message["to"] == "+33612345678" and "/m/u/" in message["body"]
    assert Recipient.objects.get(campaign=campaign, guest=email_only).reason == "no consent"


def test_api_keys_need_the_module_scopes(marketing):
    admin = User.objects.get(email="admin@alpha.test")

    def client(*scopes: str) -> Client:
        token = api_key_create(name="mk", user=admin, scopes=list(scopes), actor=SYSTEM).plaintext
        return Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client("guests:read").get("/api/v1/marketing/segments/").status_code == 403
    assert client("marketing:read").get("/api/v1/marketing/segments/").status_code == 200
    reader = client("marketing:read").post(
        "/api/v1/offers/redeem/", "{}", content_type="application/json"
    )
    assert reader.status_code == 403


def test_another_hotel_group_sees_none_of_it(marketing, tenant_b):
    segment = segment_create(name="Alpha only", actor=SYSTEM)
    with tenant_context(tenant_b):
        module_set_enabled(key="marketing", enabled=True, actor=SYSTEM)
        from crm.marketing.models import Segment

        assert not Segment.objects.filter(name="Alpha only").exists()
        assert Segment.objects.count() == 0
    bravo = Client(HTTP_HOST="bravo.test")
    bravo.post("/login/", {"username": "admin@bravo.test", "password": PASSWORD})
    response = bravo.get(f"/api/v1/marketing/segments/{segment.pk}/")
    assert response.status_code == 404


def test_a_campaign_whose_author_left_waits_for_someone_to_resume_it(marketing, smtp, make_user):
    from crm.marketing.services.campaigns import campaign_resume, campaign_start
    from tenants.access.principal import Principal

    guest = opted_in_guest(email="left@guest.test")
    marketer = make_user("marketing")
    author = Principal.of(marketer)
    template = template_create(key="t", name="T", contents=TEMPLATE, actor=author)
    segment = segment_create(name="L", kind="static", guest_ids=[guest.pk], actor=author)
    campaign = campaign_create(name="C", segment=segment, template=template, actor=author)
    campaign_schedule(campaign=campaign, actor=author)
    User.objects.filter(pk=marketer.pk).update(is_active=False)

    assert campaign_start(campaign_id=campaign.pk) is None
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    assert not Recipient.objects.filter(campaign=campaign).exists()

    admin = Principal.of(User.objects.get(email="admin@alpha.test"))
    campaign_resume(campaign=campaign, actor=admin)
    assert campaign_start(campaign_id=campaign.pk) is not None
    assert campaign_deliver(campaign_id=campaign.pk)["sent"] == 1
