"""The dashboard, reservations, companies, and the admin pages for modules, API keys,
users and roles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.services.activities import activity_create
from crm.services.companies import company_create
from crm.services.guests import guest_create
from crm.services.properties import property_create
from crm.services.reservations import reservation_create
from tenants.access.models import Role
from tenants.access.services import user_property_scope_set
from tenants.integrations.models import ApiKey
from tenants.users.models import User
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _stays():
    today = timezone.localdate()
    paris = property_create(
        code="PAR", name="Alpha Paris", country="FR", currency="EUR", actor=SYSTEM
    )
    nice = property_create(
        code="NCE", name="Alpha Nice", country="FR", currency="EUR", actor=SYSTEM
    )
    ana = guest_create(given_name="Ana", surname="Lima", actor=SYSTEM)
    bo = guest_create(given_name="Bo", surname="Chen", actor=SYSTEM)
    here = reservation_create(
        property=paris,
        guest=ana,
        confirmation_number="PAR-1",
        arrival=today,
        departure=today + timedelta(days=2),
        total_amount=Decimal("1234.5"),
        currency="EUR",
        actor=SYSTEM,
    )
    there = reservation_create(
        property=nice,
        guest=bo,
        confirmation_number="NCE-1",
        arrival=today + timedelta(days=10),
        departure=today + timedelta(days=11),
        total_amount=Decimal("99"),
        currency="EUR",
        actor=SYSTEM,
    )
    return paris, nice, here, there


def test_dashboard_shows_todays_arrivals_and_recent_activity(make_user, alpha):
    _paris, _nice, here, _there = _stays()
    activity_create(
        object_api_name="guest",
        record_id=here.guest_id,
        kind="note",
        subject="Likes a quiet room",
        actor=SYSTEM,
    )
    page = client_for(make_user("front_office"), alpha).get("/").content.decode()

    assert "PAR-1" in page and "Ana Lima" in page and "NCE-1" not in page
    assert "Likes a quiet room" in page
    assert "Background jobs" not in page  # administrators only


def test_reservation_list_filters_and_detail_respect_hotel_scope(make_user, alpha):
    paris, nice, here, there = _stays()
    clerk = make_user("front_office")
    user_property_scope_set(user=clerk, property_ids=[paris.pk], actor=SYSTEM)
    client = client_for(clerk, alpha)

    listing = client.get("/reservations/").content.decode()
    assert "PAR-1" in listing and "NCE-1" not in listing
    assert "€1,234.50" in listing
    assert client.get(f"/reservations/{here.pk}/").status_code == 200
    # Another hotel's reservation is "not there" for this user (a 404, as through the
    # API): a lookup never tells out-of-scope from non-existent.
    refused = client.get(f"/reservations/{there.pk}/")
    assert refused.status_code == 404
    assert "NCE-1" not in refused.content.decode()

    admin = client_for(make_user("tenant_admin"), alpha)
    later = admin.get(
        "/reservations/", {"arrival_from": (timezone.localdate() + timedelta(days=5)).isoformat()}
    ).content.decode()
    assert "NCE-1" in later and "PAR-1" not in later
    bad = admin.get("/reservations/", {"arrival_from": "tomorrow", "status": "lost"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "tomorrow is not a date as YYYY-MM-DD." in text
    assert "lost is not a reservation status." in text


def test_companies_list_and_search(make_user, alpha):
    company_create(name="Globex Travel", kind="travel_agent", country="US", actor=SYSTEM)
    company_create(name="Initech", kind="corporate", actor=SYSTEM)
    client = client_for(make_user("sales"), alpha)

    page = client.get("/companies/", {"q": "globex"}).content.decode()

    assert "Globex Travel" in page and "Initech" not in page and "Travel agent" in page


def test_modules_page_switches_a_module_and_reports_refusals(make_user, alpha):
    client = client_for(make_user("tenant_admin"), alpha)
    page = client.get("/settings/modules/").content.decode()
    assert 'id="module-guests"' in page

    off = client.post("/settings/modules/", {"key": "marketing", "enabled": "0"}, follow=True)
    alpha.refresh_from_db()
    assert "marketing" not in alpha.enabled_modules
    assert "Modules saved." in off.content.decode()
    client.post("/settings/modules/", {"key": "marketing", "enabled": "1"})
    alpha.refresh_from_db()
    assert "marketing" in alpha.enabled_modules

    core = client.post("/settings/modules/", {"key": "guests", "enabled": "0"}, follow=True)
    assert "guests is a core module and stays on." in core.content.decode()


def test_api_keys_are_created_once_shown_and_revoked(make_user, alpha):
    admin = make_user("tenant_admin")
    client = client_for(admin, alpha)

    made = client.post("/settings/api-keys/", {"name": "Opera PMS", "scopes": ["guests:read"]})
    text = made.content.decode()
    assert made.status_code == 200 and "Opera PMS" in text
    key = ApiKey.objects.get(name="Opera PMS")
    assert f"atr_{key.prefix}_" in text and key.scopes == ["guests:read"]
    assert f"atr_{key.prefix}_" not in client.get("/settings/api-keys/").content.decode()

    bad = client.post("/settings/api-keys/", {"name": "", "scopes": []})
    assert bad.status_code == 400 and "A name is required." in bad.content.decode()

    client.post(f"/settings/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_users_and_roles(make_user, alpha):
    admin = make_user("tenant_admin")
    client = client_for(admin, alpha)

    made = client.post(
        "/settings/users/", {"email": "new.clerk@alpha.test", "roles": ["front_office"]}
    )
    assert made.status_code == 200
    user = User.objects.get(email="new.clerk@alpha.test")
    assert user.must_change_password
    assert list(user.access_roles.values_list("key", flat=True)) == ["front_office"]
    assert 'id="one-time-password"' in made.content.decode()

    client.post(f"/settings/users/{user.pk}/roles/", {"roles": ["sales", "marketing"]})
    assert sorted(Role.objects.filter(users=user).values_list("key", flat=True)) == [
        "marketing",
        "sales",
    ]
    duplicate = client.post("/settings/users/", {"email": "new.clerk@alpha.test"})
    assert duplicate.status_code == 400
    assert "new.clerk@alpha.test already has an account." in duplicate.content.decode()

    clerk = client_for(make_user("front_office"), alpha)
    assert clerk.get("/settings/users/").status_code == 403
    assert (
        clerk.post(f"/settings/users/{user.pk}/roles/", {"roles": ["tenant_admin"]}).status_code
        == 403
    )


def test_duplicates_are_found_dismissed_and_merged(make_user, alpha):
    from crm.models import DuplicateSuggestion, Guest

    a = guest_create(given_name="Ana", surname="Lima", emails=["ana@example.com"], actor=SYSTEM)
    b = guest_create(given_name="Ana", surname="Lima", emails=["ANA@example.com"], actor=SYSTEM)
    c = guest_create(given_name="Bo", surname="Chen", phones=["+351912345678"], actor=SYSTEM)
    d = guest_create(given_name="Bob", surname="Chen", phones=["+351912345678"], actor=SYSTEM)
    # Merging deletes a profile: it needs the delete right (administrators here).
    client = client_for(make_user("tenant_admin"), alpha)

    found = client.post("/guests/duplicates/", {"action": "find"}, follow=True)
    page = found.content.decode()
    assert "2 new possible duplicates." in page and "Same e-mail" in page
    by_pair = {(s.guest_a_id, s.guest_b_id): s for s in DuplicateSuggestion.objects.all()}
    email_pair, phone_pair = by_pair[(a.pk, b.pk)], by_pair[(c.pk, d.pk)]

    client.post("/guests/duplicates/", {"action": "dismiss", "suggestion": phone_pair.pk})
    phone_pair.refresh_from_db()
    assert phone_pair.status == "dismissed"

    merged = client.post(
        "/guests/duplicates/",
        {"action": "merge", "suggestion": email_pair.pk, "survivor": b.pk},
    )
    assert merged.status_code == 302 and merged["Location"] == f"/guests/{b.pk}/"
    assert not Guest.objects.filter(pk=a.pk).exists()
    clerk = client_for(make_user("front_office"), alpha)
    refused = clerk.post(
        "/guests/duplicates/", {"action": "merge", "suggestion": phone_pair.pk, "survivor": c.pk}
    )
    assert refused.status_code == 404  # dismissed: no longer an open suggestion


def test_front_office_cannot_merge(make_user, alpha):
    from crm.models import DuplicateSuggestion
    from crm.services.dedupe import duplicates_find

    guest_create(given_name="Ana", surname="Lima", emails=["ana@example.com"], actor=SYSTEM)
    guest_create(given_name="Ana", surname="Lima", emails=["ana@example.com"], actor=SYSTEM)
    duplicates_find()
    pair = DuplicateSuggestion.objects.get()
    clerk = client_for(make_user("front_office"), alpha)

    page = clerk.get("/guests/duplicates/").content.decode()
    assert "Not a duplicate" in page and "Keep A" not in page
    refused = clerk.post(
        "/guests/duplicates/",
        {"action": "merge", "suggestion": pair.pk, "survivor": pair.guest_a_id},
    )
    assert refused.status_code == 403
    assert "Your roles do not allow you to delete" in refused.content.decode()


def test_workspace_languages_currencies_and_time_zone(make_user, alpha):
    client = client_for(make_user("tenant_admin"), alpha)
    saved = client.post(
        "/settings/workspace/",
        {
            "languages": ["en", "zh-hans", "zh-hant"],
            "default_language": "en",
            "currencies": "usd, JPY",
            "timezone": "Asia/Hong_Kong",
        },
    )
    assert saved.status_code == 302
    alpha.refresh_from_db()
    assert alpha.enabled_languages == ["en", "zh-hans", "zh-hant"]
    assert alpha.enabled_currencies == ["EUR", "USD", "JPY"]  # the base currency stays
    assert alpha.timezone == "Asia/Hong_Kong"
    # The switcher now offers Traditional Chinese.
    assert 'value="zh-hant"' in client.get("/").content.decode()

    bad = client.post(
        "/settings/workspace/",
        {
            "languages": ["en"],
            "default_language": "en",
            "currencies": "EURO",
            "timezone": "Mars/Base",
        },
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "EURO" in text and "Mars/Base" in text
    alpha.refresh_from_db()
    assert alpha.timezone == "Asia/Hong_Kong"
    from tenants.services.workspace import tenant_settings_update

    tenant_settings_update(
        tenant=alpha,
        enabled_languages=["en", "zh-hans"],
        enabled_currencies=[],
        timezone="Europe/Paris",
    )


def test_record_type_designer_adds_a_custom_object(make_user, alpha):
    client = client_for(make_user("tenant_admin"), alpha)
    made = client.post(
        "/settings/objects/",
        {
            "api_name": "supplier",
            "module": "guests",
            "label-en": "Supplier",
            "plural-en": "Suppliers",
            "label-zh-hans": "供应商",
            "plural-zh-hans": "供应商",
        },
    )
    assert made.status_code == 302 and made["Location"] == "/settings/objects/supplier/fields/"
    from metadata.models import ObjectDefinition

    supplier = ObjectDefinition.objects.get(api_name="supplier")
    assert supplier.label_zh_hans == "供应商" and supplier.label_plural_en == "Suppliers"
    again = client.post("/settings/objects/", {"api_name": "supplier", "module": "guests"})
    assert again.status_code == 400 and "supplier is already taken." in again.content.decode()


def test_metadata_template_dry_run_then_apply(make_user, alpha):
    from metadata.models import ObjectDefinition

    client = client_for(make_user("tenant_admin"), alpha)
    dry = client.post("/settings/templates/", {"blueprint": "supply_chain"})
    text = dry.content.decode()
    assert dry.status_code == 200 and "to create" in text
    assert not ObjectDefinition.objects.filter(is_builtin=False).exists()

    document = dry.context["document"]
    applied = client.post("/settings/templates/", {"document": document, "apply": "1"})
    assert applied.status_code == 302
    assert ObjectDefinition.objects.filter(is_builtin=False).exists()
    exported = client.get("/settings/templates/?download=1")
    assert exported["Content-Disposition"] == 'attachment; filename="atrium-metadata.json"'
    assert exported.json()["objects"]

    bad = client.post("/settings/templates/", {"document": "{not json"})
    assert bad.status_code == 400 and "Not JSON" in bad.content.decode()


def test_exchange_rates(make_user, alpha):
    from crm.models import ExchangeRate
    from tenants.services.workspace import tenant_settings_update

    tenant_settings_update(tenant=alpha, enabled_currencies=["EUR", "USD"])
    client = client_for(make_user("tenant_admin"), alpha)
    page = client.get("/settings/exchange-rates/").content.decode()
    assert '<option value="USD"' in page and '<option value="EUR"' not in page

    saved = client.post(
        "/settings/exchange-rates/",
        {"currency": "USD", "rate": "0.92", "valid_from": "2026-01-01"},
    )
    assert saved.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.base_currency, str(rate.rate.normalize())) == ("USD", "EUR", "0.92")

    bad = client.post(
        "/settings/exchange-rates/", {"currency": "USD", "rate": "-1", "valid_from": "2026-01-01"}
    )
    assert bad.status_code == 400
    assert "An exchange rate must be greater than zero." in bad.content.decode()
    worse = client.post(
        "/settings/exchange-rates/", {"currency": "USD", "rate": "abc", "valid_from": "soon"}
    )
    text = worse.content.decode()
    assert worse.status_code == 400
    assert "abc is not a number." in text and "soon is not a date as YYYY-MM-DD." in text
    tenant_settings_update(tenant=alpha, enabled_currencies=[])


def test_webhook_endpoints_and_their_delivery_log(make_user, alpha):
    from tenants.integrations.models import WebhookDelivery, WebhookEndpoint

    client = client_for(make_user("tenant_admin"), alpha)
    made = client.post(
        "/settings/webhooks/",
        {"url": "https://pms.example.com/hooks", "event_types": ["guest.created"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert made.status_code == 200 and endpoint.secret in made.content.decode()
    assert endpoint.secret not in client.get("/settings/webhooks/").content.decode()
    bad = client.post("/settings/webhooks/", {"url": "ftp://x", "event_types": ["nope.event"]})
    assert bad.status_code == 400 and "Give an http:// or https:// URL." in bad.content.decode()

    guest_create(given_name="Ana", surname="Lima", actor=SYSTEM)  # publishes guest.created
    delivery = WebhookDelivery.objects.get(endpoint_id=endpoint.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=3, last_status_code=500
    )
    page = client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "guest.created" in page and "Failed" in page and "Send again" in page

    client.post(
        f"/settings/webhooks/{endpoint.pk}/", {"action": "redeliver", "delivery": delivery.pk}
    )
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    client.post(f"/settings/webhooks/{endpoint.pk}/", {"action": "disable"})
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    old_secret = endpoint.secret
    rotated = client.post(f"/settings/webhooks/{endpoint.pk}/", {"action": "rotate"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.secret in rotated.content.decode()
    client.post(f"/settings/webhooks/{endpoint.pk}/", {"action": "delete"})
    assert not WebhookEndpoint.objects.exists()
