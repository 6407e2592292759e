"""Fixtures of the marketing tests: tenant alpha (base currency EUR) with the module on."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from metadata.services.modules import module_set_enabled
from tests.principals import SYSTEM


@pytest.fixture
def marketing(tenant_a):
    with tenant_context(tenant_a):
        module_set_enabled(key="marketing", enabled=True, actor=SYSTEM)
        yield tenant_a


@pytest.fixture
def make_user(marketing):
    """A staff user of tenant alpha with the given seeded roles."""
    from tests.access.conftest import _counter  # one numbering of test users

    def make(*role_keys: str):
        from django.contrib.auth import get_user_model

        from tenants.access.models import Role
        from tenants.access.services import user_roles_set
        from tests.conftest import PASSWORD

        user = get_user_model().objects.create_user(
            email=f"marketing{next(_counter)}@alpha.test", password=PASSWORD
        )
        user_roles_set(user=user, roles=Role.objects.filter(key__in=role_keys), actor=SYSTEM)
        return get_user_model().objects.get(pk=user.pk)

    return make


TEMPLATE = {
    "en": {
        "subject": "Spring at {{ guest.first_name }}'s favourite hotel",
        "preheader": "Three nights for two",
        "body": "Dear {{ guest.first_name }},\n\nSee [our spring offer](https://hotel.example/spring?a=1&b=2).",
    },
    "zh-hans": {
        "subject": "{{ guest.surname }}，春季优惠",
        "preheader": "",
        "body": "您好 {{ guest.surname }}，\n\n请看[春季优惠](https://hotel.example/zh/spring)。",
    },
}


def opted_in_guest(**fields):
    from crm.services.guests import guest_consent_record
    from tests.crm.factories import make_guest

    email = fields.pop("email", "")
    guest = make_guest(emails=[email] if email else [], **fields)
    guest_consent_record(
        guest=guest, channel="email", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    return guest


def campaign_for(guests, name: str = "Spring", **fields):
    """A campaign to a static list of ``guests``, started (its audience built)."""
    from crm.marketing.models import EmailTemplate
    from crm.marketing.services.campaigns import campaign_create, campaign_schedule, campaign_start
    from crm.marketing.services.segments import segment_create
    from crm.marketing.services.templates import template_create

    template = EmailTemplate.objects.filter(key="spring").first() or template_create(
        key="spring", name="Spring", contents=TEMPLATE, actor=SYSTEM
    )
    segment = segment_create(
        name=f"{name} list", kind="static", guest_ids=[g.pk for g in guests], actor=SYSTEM
    )
    campaign = campaign_create(
        name=name, segment=segment, template=template, actor=SYSTEM, **fields
    )
    campaign_schedule(campaign=campaign, actor=SYSTEM)
    started = campaign_start(campaign_id=campaign.pk)
    assert started is not None
    return started
