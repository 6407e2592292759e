"""The public site: pricing and a sign-up that provisions a trial tenant, or explains
per field what is wrong and creates nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from billing.models import Subscription
from tenants.models import Domain, Tenant

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Lotus Hotels",
    "slug": "lotus",
    "admin_email": "ops@lotus.example",
    "currency": "HKD",
    "languages": "zh-hant, en",
}


def public() -> Client:
    return Client(HTTP_HOST="atrium.test")


def test_pricing_lists_the_plans():
    page = public().get("/pricing/").content.decode()
    assert "Starter" in page and "Professional" in page and "Enterprise" in page


def test_sign_up_provisions_a_trial_tenant_and_shows_the_first_login(settings):
    settings.ATRIUM_PROVISIONING_DOMAIN_SUFFIX = "atrium.test"
    response = public().post("/signup/", GOOD)
    assert response.status_code == 200
    tenant = Tenant.objects.get(slug="lotus")
    assert tenant.status == "trial" and tenant.base_currency == "HKD"
    assert tenant.default_language == "zh-hant"
    assert Domain.objects.get(tenant=tenant).domain == "lotus.atrium.test"
    subscription = Subscription.objects.get(tenant=tenant)
    assert subscription.status == "trialing" and subscription.trial_end is not None
    body = response.content.decode()
    assert "ops@lotus.example" in body and "http://lotus.atrium.test/" in body


@pytest.mark.parametrize(
    "overrides, field_text",
    [
        ({"slug": "Bad Slug!"}, "slug"),
        ({"slug": "alpha"}, "already taken"),
        ({"currency": "XYZ"}, "XYZ"),
        ({"languages": "tlh"}, "tlh"),
        ({"admin_email": "nope"}, "valid email"),
    ],
)
def test_bad_sign_up_names_the_problem_and_leaves_nothing(overrides, field_text):
    before = (Tenant.objects.count(), Subscription.objects.count())
    response = public().post("/signup/", {**GOOD, **overrides})
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert (Tenant.objects.count(), Subscription.objects.count()) == before
