"""A hotel group's subscription from trial to active, past due, suspended (read-only,
402) and back to active, through real Stripe client calls to a local server and signed
webhooks verified by the stripe library itself."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import stripe
from django.test import Client
from django.utils import timezone

from billing.models import Plan, StripeEvent, Subscription
from billing.services.stripe_sync import billing_lifecycle_run, subscription_start_trial
from tenants.models import Tenant
from tests.billing.stripe_server import SECRET_KEY, StripeStandIn
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec_test_atrium"
PRICE = "price_pro_month_eur"


@pytest.fixture
def stripe_local(settings):
    with StripeStandIn() as server:
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        plan = Plan.objects.get(code="professional")
        plan.prices = [
            {"interval": "month", "currency": "EUR", "amount": "690.00", "stripe_price_id": PRICE}
        ]
        plan.save()
        yield server


def signed(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header made by the stripe library's own signing helper."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=at or int(time.time())
    )


def event(event_id: str, kind: str, obj: dict, *, created: int | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": created or int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "api_version": "2024-06-20",
        }
    ).encode()


def _parent(subscription: str) -> dict:
    """An invoice's subscription as API version 2025-03-31.basil sends it."""
    return {
        "type": "subscription_details",
        "subscription_details": {"subscription": subscription, "metadata": {}},
    }


def deliver(payload: bytes, signature: str | None = None):
    client = Client(HTTP_HOST="atrium.test")
    return client.post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature or signed(payload),
    )


def write_guest(tenant) -> int:
    client = tenant_client(tenant)
    response = client.post(
        "/api/v1/guests/",
        {"given_name": "Ana", "surname": "Paid"},
        content_type="application/json",
    )
    return response.status_code


def test_trial_to_active_to_suspended_and_back(tenant_a, stripe_local):
    subscription_start_trial(tenant=tenant_a)
    Tenant.objects.filter(pk=tenant_a.pk).update(status="trial")

    admin = tenant_client(tenant_a)
    response = admin.post("/billing/checkout/", {"plan": "professional", "interval": "month"})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/cs_test_1"
    [checkout] = [r for r in stripe_local.requests if r["path"] == "/v1/checkout/sessions"]
    assert checkout["form"]["line_items[0][price]"] == PRICE
    assert checkout["form"]["client_reference_id"] == str(tenant_a.pk)
    assert checkout["form"]["mode"] == "subscription"

    stripe_local.subscription("sub_1", status="active", price=PRICE)
    completed = event(
        "evt_1",
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "object": "checkout.session",
            "client_reference_id": str(tenant_a.pk),
            "customer": "cus_1",
            "subscription": "sub_1",
        },
    )
    assert deliver(completed).status_code == 200
    tenant_a.refresh_from_db()
    subscription = Subscription.objects.get(tenant=tenant_a)
    assert tenant_a.status == "active" and subscription.plan.code == "professional"
    assert subscription.stripe_customer_id == "cus_1"
    # The period comes from the subscription's item (2025-03-31.basil), and every call
    # asked Stripe for the version the code reads.
    assert subscription.current_period_end.timestamp() == 1893456000
    assert {r["version"] for r in stripe_local.requests} == {"2025-03-31.basil"}

    stripe_local.subscription("sub_1", status="past_due", price=PRICE)
    failed = event(
        "evt_2",
        "invoice.payment_failed",
        {"id": "in_1", "object": "invoice", "parent": _parent("sub_1")},
    )
    assert deliver(failed).status_code == 200
    tenant_a.refresh_from_db()
    assert tenant_a.status == "past_due"
    assert "Payment is overdue" in admin.get("/").content.decode()
    assert write_guest(tenant_a) == 201  # past due: still writable during the grace period

    # The same event again changes nothing and is recognised.
    again = deliver(failed)
    assert again.status_code == 200 and again.content.decode().startswith("duplicate")
    assert StripeEvent.objects.filter(id="evt_2").count() == 1

    later = timezone.now() + timedelta(days=8)
    assert billing_lifecycle_run(now=later)["suspended"] == 1
    tenant_a.refresh_from_db()
    assert tenant_a.status == "suspended"
    blocked = tenant_client(tenant_a).post(
        "/api/v1/guests/",
        {"given_name": "No", "surname": "Write"},
        content_type="application/json",
    )
    assert blocked.status_code == 402
    assert blocked.json()["errors"][0]["code"] == "tenant_suspended"
    assert tenant_client(tenant_a).get("/api/v1/guests/").status_code == 200  # reads ok

    stripe_local.subscription("sub_1", status="active", price=PRICE)
    paid = event(
        "evt_3", "invoice.paid", {"id": "in_2", "object": "invoice", "parent": _parent("sub_1")}
    )
    assert deliver(paid).status_code == 200
    tenant_a.refresh_from_db()
    assert tenant_a.status == "active"
    assert write_guest(tenant_a) == 201

    # An old event arriving late cannot bring back the old state: the subscription is
    # read from Stripe when the event is processed.
    stale = event(
        "evt_0",
        "customer.subscription.updated",
        {"id": "sub_1", "object": "subscription", "status": "past_due"},
        created=int(time.time()) - 3600,
    )
    assert deliver(stale).status_code == 200
    tenant_a.refresh_from_db()
    assert tenant_a.status == "active"


def test_tampered_and_stale_signatures_are_refused(stripe_local, tenant_a):
    payload = event("evt_9", "invoice.paid", {"id": "in_9", "parent": _parent("sub_x")})
    tampered = payload.replace(b"in_9", b"in_8")
    assert deliver(tampered, signed(payload)).status_code == 400
    assert deliver(payload, signed(payload, secret="whsec_wrong")).status_code == 400
    old = int(time.time()) - 3600
    assert deliver(payload, signed(payload, at=old)).status_code == 400
    assert not StripeEvent.objects.filter(id="evt_9").exists()


def test_portal_session_for_a_subscribed_tenant(stripe_local, tenant_a):
    subscription = subscription_start_trial(tenant=tenant_a)
    subscription.stripe_customer_id = "cus_7"
    subscription.save()
    response = tenant_client(tenant_a).post("/billing/portal/")
    assert response.status_code == 302
    assert response["Location"] == "https://billing.stripe.test/p/1"
    [portal] = [r for r in stripe_local.requests if r["path"] == "/v1/billing_portal/sessions"]
    assert portal["form"]["customer"] == "cus_7"


def test_plan_entitlements_limit_modules_and_custom_fields(stripe_local, tenant_a):
    from django_tenants.utils import tenant_context

    from metadata.services.definitions import custom_field_create
    from metadata.services.modules import module_set_enabled
    from tenants.errors import ApplicationError

    subscription = subscription_start_trial(tenant=tenant_a, plan=Plan.objects.get(code="starter"))
    assert subscription.plan.code == "starter"
    with tenant_context(tenant_a):
        with pytest.raises(ApplicationError) as exc:
            module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
        assert exc.value.code == "plan_module"
        Plan.objects.filter(code="starter").update(limits={"custom_fields_per_object": 1})
        custom_field_create(
            object_api_name="guest", api_name="tier", label="T", type="text", actor=SYSTEM
        )
        with pytest.raises(ApplicationError) as exc:
            custom_field_create(
                object_api_name="guest", api_name="tier2", label="T", type="text", actor=SYSTEM
            )
        assert exc.value.code == "plan_limit" and "1" in exc.value.message


def test_without_stripe_keys_billing_is_off_and_everything_is_open(tenant_a):
    from django_tenants.utils import tenant_context

    from metadata.services.modules import module_set_enabled

    subscription_start_trial(tenant=tenant_a, plan=Plan.objects.get(code="starter"))
    with tenant_context(tenant_a):
        assert module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)["loyalty"] is True
    page = tenant_client(tenant_a).get("/billing/")
    assert "not configured" in page.content.decode()


def test_plan_limits_hotels_and_staff_users(stripe_local, tenant_a):
    from django_tenants.utils import tenant_context

    from crm.models import Property
    from tenants.entitlements import PlanLimitReached
    from tenants.users.models import User
    from tenants.users.services import user_create
    from tests.crm.factories import make_property

    subscription_start_trial(tenant=tenant_a, plan=Plan.objects.get(code="starter"))
    with tenant_context(tenant_a):
        Plan.objects.filter(code="starter").update(
            limits={
                "properties": Property.objects.count() + 1,
                "staff_users": User.objects.filter(is_active=True).count() + 1,
            }
        )
        make_property()
        with pytest.raises(PlanLimitReached) as exc:
            make_property()
        assert exc.value.code == "plan_limit" and "hotels" in exc.value.message
        user, password = user_create(email="desk@alpha.test", actor=SYSTEM)
        assert user.must_change_password and user.check_password(password)
        with pytest.raises(PlanLimitReached):
            user_create(email="desk2@alpha.test", actor=SYSTEM)
    over = tenant_client(tenant_a).post(
        "/api/v1/properties/",
        {
            "code": "OVER1",
            "name": "One too many",
            "country": "PT",
            "currency": "EUR",
            "timezone": "Europe/Lisbon",
        },
        content_type="application/json",
    )
    assert over.status_code == 403 and over.json()["errors"][0]["code"] == "plan_limit"


def test_cancelled_tenants_are_deleted_after_the_retention_period(stripe_local, settings, tmp_path):
    from django_tenants.utils import schema_exists

    settings.ATRIUM_TENANT_EXPORTS_DIR = tmp_path

    from tenants.services.provisioning import tenant_create

    tenant = tenant_create(
        name="Short Stay",
        slug="short-stay",
        domain="short.atrium.test",
        admin_email="ops@short.example",
        currency="EUR",
        languages=["en"],
        send_welcome_email=False,
    ).tenant
    subscription = subscription_start_trial(tenant=tenant)
    stripe_local.subscription("sub_c", status="canceled", price=PRICE)
    subscription.stripe_subscription_id = "sub_c"
    subscription.save()
    cancelled = event(
        "evt_c",
        "customer.subscription.deleted",
        {"id": "sub_c", "object": "subscription", "status": "canceled"},
    )
    assert deliver(cancelled).status_code == 200
    tenant.refresh_from_db()
    assert tenant.status == "cancelled"
    assert billing_lifecycle_run(now=timezone.now() + timedelta(days=5))["deleted"] == 0
    assert schema_exists(tenant.schema_name)
    outcome = billing_lifecycle_run(now=timezone.now() + timedelta(days=31))
    assert outcome["deleted"] == 1
    assert not schema_exists(tenant.schema_name)
    assert not Tenant.objects.filter(slug="short-stay").exists()
    # The tenant's data was exported first, and the file restores.
    [export] = outcome["exports"]
    assert export.startswith(str(tmp_path / "short-stay-"))
    from tenants.services.backup import tenant_import

    restored = tenant_import(path=export).tenant
    assert (restored.slug, restored.status) == ("short-stay", "cancelled")


def test_a_cancelled_tenant_whose_export_fails_is_kept(settings, tmp_path, monkeypatch):
    from django_tenants.utils import schema_exists

    from tenants.services import backup
    from tenants.services.provisioning import tenant_create

    settings.ATRIUM_TENANT_EXPORTS_DIR = tmp_path
    tenant = tenant_create(
        name="Kept",
        slug="kept",
        domain="kept.atrium.test",
        admin_email="ops@kept.example",
        currency="EUR",
        status="cancelled",
        send_welcome_email=False,
    ).tenant
    subscription = subscription_start_trial(tenant=tenant)
    subscription.status, subscription.cancelled_at = "canceled", timezone.now()
    subscription.save()

    def broken(**_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "tenant_export", broken)

    outcome = billing_lifecycle_run(now=timezone.now() + timedelta(days=31))

    assert outcome["deleted"] == 0
    assert schema_exists(tenant.schema_name)
