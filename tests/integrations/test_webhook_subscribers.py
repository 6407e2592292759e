"""Webhook endpoints are an administration door, and each endpoint acts for whoever
subscribed (security issue, hole 4): a ``guests:read`` key once subscribed to ``*`` and
received company data. Now every event is built for the subscriber -- the user, narrowed
by the key they used -- so nothing leaves through a webhook that they could not read."""

from __future__ import annotations

import importlib
import json
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.test import Client

from crm.services.guests import guest_update
from metadata.services.definitions import custom_field_create
from tenants.access.models import AuditEvent, Role, RoleAssignment
from tenants.access.principal import Principal
from tenants.access.selectors import administrators
from tenants.access.services import (
    role_create,
    role_field_permission_set,
    role_object_permission_set,
    user_roles_set,
)
from tenants.integrations.models import WebhookDelivery, WebhookEndpoint
from tenants.integrations.webhooks import webhook_attempt, webhook_endpoint_create
from tests.api.test_records_api import api, patch, post
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.integrations.conftest import key_client, session_client
from tests.integrations.test_webhooks import HOOKS, subscribe
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/api/v1/webhooks/event-types/", None),
    ("get", HOOKS, None),
    ("post", HOOKS, {"url": "https://pms.example/in", "event_types": ["*"]}),
    ("get", HOOKS + "{endpoint}/", None),
    ("patch", HOOKS + "{endpoint}/", {"description": "PMS"}),
    ("get", HOOKS + "{endpoint}/deliveries/", None),
    ("post", "/api/v1/webhooks/deliveries/{delivery}/redeliver/", {}),
    ("delete", HOOKS + "{endpoint}/", None),  # last: the others need the endpoint
]
WRITES = {"post", "patch", "delete"}


@pytest.fixture
def hook(alpha, receiver):
    """An administrator's endpoint on every event, with one delivery in its log."""
    endpoint = subscribe(url=receiver.url, event_types=["*"])
    make_guest()
    return {"endpoint": endpoint.pk, "delivery": WebhookDelivery.objects.get().pk}


def call(client: Client, method: str, path: str, body, ids: dict):
    path = path.format(**ids)
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def deliveries_of(endpoint_id: int) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(endpoint_id=endpoint_id).order_by("pk"))


# --- the door -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        "tenant_admin",
        "general_manager",
        "front_office",
        "reservations",
        "sales",
        "marketing",
        "service_agent",
        "read_only",
    ],
)
def test_only_administrators_pass_the_webhook_doors(alpha, hook, make_user, role):
    client = session_client(alpha, make_user(role))
    for method, path, body in ROUTES:
        response = call(client, method, path, body, hook)
        if role == "tenant_admin":
            assert response.status_code < 400, (method, path, response.content)
        else:
            assert response.status_code == 403, (role, method, path)
            [error] = response.json()["errors"]
            assert error["code"] == "permission_denied"
            assert error["message"].startswith("Only administrators may ")


def test_the_staff_flag_alone_opens_nothing(alpha, hook, make_user):
    """``is_staff`` used to be the rule; only a role that grants everything counts now."""
    user = make_user("front_office")
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    client = session_client(alpha, user)
    for method, path, body in ROUTES:
        assert call(client, method, path, body, hook).status_code == 403, (method, path)


@pytest.mark.parametrize(
    ("scopes", "reads", "writes"),
    [
        (["guests:read"], 403, 403),
        (["guests:write", "sales:write", "reservations:write"], 403, 403),
        (["admin:read"], 200, 403),
        (["admin:write"], 200, 200),
        (["*"], 200, 200),
    ],
)
def test_api_keys_need_the_admin_scope(alpha, hook, scopes, reads, writes):
    client = key_client(alpha, administrators().first(), scopes)
    for method, path, body in ROUTES:
        response = call(client, method, path, body, hook)
        expected = writes if method in WRITES else reads
        if expected == 403:
            assert response.status_code == 403, (scopes, method, path)
            need = "admin:write" if method in WRITES else "admin:read"
            assert f"it needs the {need} scope" in response.json()["errors"][0]["message"]
        else:
            assert response.status_code < 400, (scopes, method, path, response.content)


def test_a_guests_key_cannot_subscribe_to_everything(alpha, receiver):
    """The reported hole: an administrator's guests:read key subscribed to * ."""
    client = key_client(alpha, administrators().first(), ["guests:read"])
    response = call(client, "post", HOOKS, {"url": receiver.url, "event_types": ["*"]}, {})
    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


# --- what a subscription may ask for -------------------------------------------------------


def test_event_types_the_key_can_never_see_are_a_403_naming_the_field(alpha, receiver):
    admin = administrators().first()
    client = key_client(alpha, admin, ["admin:write", "guests:write"])
    for types in (["company.*"], ["guest.*", "company.created"], ["reservation.updated"]):
        response = call(client, "post", HOOKS, {"url": receiver.url, "event_types": types}, {})
        assert response.status_code == 403, types
        [error] = response.json()["errors"]
        assert error["field"] == "event_types"
        assert "cannot subscribe to" in error["message"]
    assert not WebhookEndpoint.objects.exists()

    made = call(client, "post", HOOKS, {"url": receiver.url, "event_types": ["guest.*"]}, {})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["subscribed_by"] == admin.pk
    assert body["subscribed_scopes"] == ["admin:write", "guests:write"]
    # "*" is allowed: it brings what the key may view, and nothing else (see below).
    everything = call(client, "post", HOOKS, {"url": receiver.url, "event_types": ["*"]}, {})
    assert everything.status_code == 201


def test_a_signed_in_subscription_is_not_narrowed(alpha, make_user, receiver):
    user = make_user("tenant_admin")
    response = call(
        session_client(alpha, user),
        "post",
        HOOKS,
        {"url": receiver.url, "event_types": ["company.*"]},
        {},
    )
    assert response.status_code == 201, response.content
    assert (response.json()["subscribed_by"], response.json()["subscribed_scopes"]) == (
        user.pk,
        None,
    )


def test_the_platform_itself_cannot_subscribe(alpha, receiver):
    with pytest.raises(ValueError, match="acts for a user"):
        webhook_endpoint_create(actor=Principal.system("test"), url=receiver.url, event_types=["*"])


# --- what each delivery carries -----------------------------------------------------------


def test_events_of_objects_outside_the_keys_scopes_are_not_delivered(alpha, receiver):
    admin = administrators().first()
    narrow = key_client(alpha, admin, ["admin:write", "guests:read"])
    made = call(narrow, "post", HOOKS, {"url": receiver.url, "event_types": ["*"]}, {})
    narrow_id = made.json()["id"]
    full = subscribe(url=receiver.url, event_types=["*"])

    company = post(api(alpha), "/api/v1/companies/", {"name": "Acme Travel"})
    assert company.status_code == 201, company.content
    make_guest(surname="Chen")

    assert [d.event_type for d in deliveries_of(full.pk)] == ["company.created", "guest.created"]
    [only] = deliveries_of(narrow_id)
    assert only.event_type == "guest.created"
    assert only.payload["data"]["record"]["surname"] == "Chen"


@pytest.fixture
def guest_fields(alpha):
    custom_field_create(
        object_api_name="guest", api_name="pillow", label="Pillow", type="text", actor=SYSTEM
    )
    custom_field_create(
        object_api_name="guest",
        api_name="loyalty_pin",
        label="PIN",
        type="text",
        sensitive=True,
        actor=SYSTEM,
    )


def test_payloads_are_masked_with_the_subscribers_field_rights(
    alpha, make_user, receiver, guest_fields
):
    """An administrator subscribes, then moves to the front desk: from then on the
    endpoint carries what a front-desk user may read -- no birth date, no identity
    document, no sensitive custom field."""
    former = make_user("tenant_admin")
    demoted = webhook_endpoint_create(
        actor=Principal.of(former), url=receiver.url, event_types=["guest.*"]
    )
    admins = subscribe(url=receiver.url, event_types=["guest.*"])
    user_roles_set(user=former, roles=Role.objects.filter(key="front_office"), actor=SYSTEM)

    guest = make_guest(
        given_name="Mei",
        surname="Chen",
        birth_date=date(1990, 5, 17),
        id_document_type="passport",
        custom={"pillow": "feather", "loyalty_pin": "4242"},
    )
    [full] = deliveries_of(admins.pk)
    [masked] = deliveries_of(demoted.pk)
    everything = full.payload["data"]["record"]
    shown = masked.payload["data"]["record"]
    assert everything["birth_date"] == "1990-05-17"
    assert everything["id_document_type"] == "passport"
    assert (shown["given_name"], shown["surname"]) == ("Mei", "Chen")
    assert not {"birth_date", "id_document_type", "id_document_number"} & set(shown)
    # The administrator's endpoint read sensitive fields: audited as any read is.
    audit = AuditEvent.objects.filter(action="sensitive_read", record_id=str(guest.pk))
    assert set(audit.values_list("actor_id", flat=True)) == {admins.subscribed_by_id}

    # A change they cannot see is not announced to them at all...
    guest_update(guest=guest, birth_date=date(1991, 1, 1), actor=SYSTEM)
    assert len(deliveries_of(admins.pk)) == 2
    assert len(deliveries_of(demoted.pk)) == 1
    # ...and a mixed change shows only its readable part.
    guest_update(
        guest=guest,
        surname="Lin",
        custom={"pillow": "foam", "loyalty_pin": "0000"},
        actor=SYSTEM,
    )
    changes = deliveries_of(demoted.pk)[-1].payload["data"]["changes"]
    assert changes == {
        "surname": {"old": "Chen", "new": "Lin"},
        "custom": {"old": {"pillow": "feather"}, "new": {"pillow": "foam"}},
    }
    assert deliveries_of(admins.pk)[-1].payload["data"]["changes"]["custom"] == {
        "old": {"pillow": "feather", "loyalty_pin": "4242"},
        "new": {"pillow": "foam", "loyalty_pin": "0000"},
    }


def test_an_event_that_is_a_hidden_fields_value_is_not_sent(alpha, make_user, receiver):
    """reservation.status_changed carries the status itself: a subscriber who may see
    reservations but not their status hears of neither the change nor the new value."""
    user = make_user("tenant_admin")
    endpoint = webhook_endpoint_create(
        actor=Principal.of(user), url=receiver.url, event_types=["reservation.*"]
    )
    role = role_create(key="no_status", name="No status", actor=SYSTEM)
    for target in ("reservation", "guest"):
        role_object_permission_set(
            role=role, target=target, actions=["view"], field_default="read", actor=SYSTEM
        )
    role_field_permission_set(
        role=role,
        object_api_name="reservation",
        field_api_name="status",
        access="hidden",
        actor=SYSTEM,
    )
    user_roles_set(user=user, roles=[role], actor=SYSTEM)
    reservation = make_reservation(property=make_property(), guest=make_guest())
    from crm.services.reservations import reservation_status_change

    reservation_status_change(reservation=reservation, status="in_house", actor=SYSTEM)
    types = [d.event_type for d in deliveries_of(endpoint.pk)]
    assert types == ["reservation.created"]
    assert "status" not in deliveries_of(endpoint.pk)[0].payload["data"]["record"]


def test_a_subscriber_who_leaves_stops_receiving(alpha, make_user, receiver):
    user = make_user("tenant_admin")
    endpoint = webhook_endpoint_create(
        actor=Principal.of(user), url=receiver.url, event_types=["guest.*"]
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    make_guest()
    assert deliveries_of(endpoint.pk) == []
    user.delete()
    endpoint.refresh_from_db()
    assert endpoint.subscribed_by is None
    make_guest()
    assert deliveries_of(endpoint.pk) == []
    # An administrator who saves it again becomes its subscriber.
    response = patch(api(alpha), f"{HOOKS}{endpoint.pk}/", {"description": "adopted"})
    assert response.status_code == 200
    assert response.json()["subscribed_by"] == administrators().first().pk
    make_guest()
    assert len(deliveries_of(endpoint.pk)) == 1


# --- changing hands ------------------------------------------------------------------------


def test_whoever_redirects_an_endpoint_becomes_its_subscriber(alpha, receiver):
    """A narrow administration key points a full administrator's endpoint elsewhere:
    what was built for the administrator is not sent there, nor sent again, nor shown to
    that key in the log; new events are built for the key."""
    full = subscribe(url=receiver.url, event_types=["*"])
    company = post(api(alpha), "/api/v1/companies/", {"name": "Acme Travel"})
    assert company.status_code == 201
    [built_for_admin] = deliveries_of(full.pk)

    narrow = key_client(alpha, administrators().first(), ["admin:write", "guests:read"])
    path = f"{HOOKS}{full.pk}/"
    renamed = call(narrow, "patch", path, {"description": "renamed"}, {})
    assert renamed.json()["subscribed_scopes"] is None  # a description changes no hands
    refused = call(narrow, "patch", path, {"event_types": ["company.*"]}, {})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "event_types"
    moved = call(narrow, "patch", path, {"url": receiver.url + "/elsewhere"}, {})
    assert moved.status_code == 200, moved.content
    assert moved.json()["subscribed_scopes"] == ["admin:write", "guests:read"]

    done = webhook_attempt(delivery_id=built_for_admin.pk)
    assert done.status == "failed"
    assert "earlier subscriber" in done.last_error
    assert receiver.requests == []
    redeliver = f"/api/v1/webhooks/deliveries/{built_for_admin.pk}/redeliver/"
    again = call(narrow, "post", redeliver, {}, {})
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "subscriber_changed"

    make_guest(surname="Chen")
    log = call(narrow, "get", f"{path}deliveries/", None, {}).json()["results"]
    payloads = {row["event_type"]: row["payload"] for row in log}
    assert payloads["company.created"] is None
    assert payloads["guest.created"]["data"]["record"]["surname"] == "Chen"
    # A full administrator reads the whole log.
    admin_log = api(alpha).get(f"{path}deliveries/").json()["results"]
    assert all(row["payload"] for row in admin_log)


# --- the migration ---------------------------------------------------------------------------


def test_endpoints_made_before_subscribers_were_recorded_act_for_an_administrator(alpha, receiver):
    migration = importlib.import_module("tenants.integrations.migrations.0004_webhook_subscribers")
    legacy = WebhookEndpoint.objects.create(url=receiver.url, event_types=["*"], secret="x")
    migration.subscribe_existing_endpoints(django_apps, None)
    legacy.refresh_from_db()
    assert legacy.subscribed_by == administrators().first()
    assert legacy.subscribed_scopes is None and legacy.enabled

    orphan = WebhookEndpoint.objects.create(url=receiver.url, event_types=["*"], secret="y")
    RoleAssignment.objects.filter(role__grants_everything=True).delete()
    migration.subscribe_existing_endpoints(django_apps, None)
    orphan.refresh_from_db()
    assert orphan.subscribed_by is None
    assert orphan.enabled is False
    assert "No administrator" in orphan.disabled_reason
