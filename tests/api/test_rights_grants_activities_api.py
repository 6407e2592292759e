"""The admin API for a role's rights (PATCH /api/v1/roles/{key}/), temporary grants
(/api/v1/grants/) and activities on records (/api/v1/activities/): what each allows,
and refusals that write nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Activity
from metadata.services.definitions import object_definition_create
from tenants.access.models import AuditEvent, ObjectPermission, TemporaryGrant
from tenants.access.services import role_create
from tenants.users.models import User
from tests.access.test_attacks import code_of, key_client, member, session_client
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")  # tenant alpha's time zone


def admin_client(tenant, *scopes):
    with tenant_context(tenant):
        user = User.objects.get(email=f"admin@{tenant.slug}.test")
    return key_client(tenant, user, *(scopes or ("*",)))


def send(client, method: str, path: str, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


# --- roles and rights -------------------------------------------------------------------


def test_patching_a_role_grants_a_new_record_type_and_its_member_then_creates_records(tenant_a):
    with tenant_context(tenant_a):
        object_definition_create(
            api_name="minibar_check", label="Minibar check", label_plural="Minibar checks",
            module="guests", actor=SYSTEM,
        )  # fmt: skip
        role_create(key="housekeeping", name="Housekeeping", actor=SYSTEM)
    housekeeper = member(tenant_a, "hk@alpha.test", "housekeeping")
    staff = session_client(tenant_a, housekeeper)
    path = "/api/v1/objects/minibar_check/records/"
    assert staff.post(path, {"name": "Room 12"}, content_type="application/json").status_code == 403

    changed = send(
        admin_client(tenant_a, "admin:write", "admin:read"),
        "patch",
        "/api/v1/roles/housekeeping/",
        {
            "description": "Rooms, minibars and lost property.",
            "objects": {"minibar_check": {"actions": ["view", "create"], "field_default": "edit"}},
        },
    )

    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["description"] == "Rooms, minibars and lost property."
    assert body["objects"]["minibar_check"] == {
        "actions": ["create", "view"],
        "field_default": "edit",
    }
    made = staff.post(path, {"name": "Room 12"}, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["name"] == "Room 12"


def test_a_role_patch_by_a_lower_role_or_a_read_key_is_refused_and_writes_nothing(tenant_a):
    manager = member(tenant_a, "gm@alpha.test", "general_manager")
    rights = {"objects": {"guest": {"actions": ["view", "delete"], "field_default": "edit"}}}
    for client in (session_client(tenant_a, manager), admin_client(tenant_a, "admin:read")):
        refused = send(client, "patch", "/api/v1/roles/front_office/", rights)
        assert refused.status_code == 403
        assert code_of(refused) == "permission_denied"
    with tenant_context(tenant_a):
        row = ObjectPermission.objects.get(role__key="front_office", target="guest")
        assert not row.can_delete
        assert not AuditEvent.objects.filter(action="permission_change").exists()


def test_a_built_in_role_is_not_deleted_but_ones_own_role_is(tenant_a):
    client = admin_client(tenant_a)
    kept = client.delete("/api/v1/roles/front_office/")
    assert kept.status_code == 400
    with tenant_context(tenant_a):
        role_create(key="seasonal", name="Seasonal", actor=SYSTEM)
    assert client.delete("/api/v1/roles/seasonal/").status_code == 204
    assert client.get("/api/v1/roles/seasonal/").status_code == 404


# --- temporary grants -------------------------------------------------------------------


def test_an_admin_gives_lists_and_revokes_a_grant(tenant_a):
    clerk = member(tenant_a, "clerk@alpha.test", "front_office")
    client = admin_client(tenant_a)
    staff = session_client(tenant_a, clerk)
    assert staff.get("/api/v1/guests/export/").status_code == 403
    until = timezone.now() + timedelta(hours=8)

    given = send(
        client,
        "post",
        "/api/v1/grants/",
        {
            "user": clerk.pk,
            "object": "guest",
            "action": "export",
            "expires_at": until.isoformat(),
            "reason": "Month-end report for the GM",
        },
    )

    assert given.status_code == 201, given.content
    grant = given.json()
    assert (grant["user_email"], grant["object"], grant["action"], grant["status"]) == (
        "clerk@alpha.test",
        "guest",
        "export",
        "active",
    )
    assert grant["reason"] == "Month-end report for the GM"
    assert [g["id"] for g in client.get("/api/v1/grants/").json()["results"]] == [grant["id"]]
    assert staff.get("/api/v1/guests/export/").status_code == 200

    revoked = client.delete(f"/api/v1/grants/{grant['id']}/")

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert client.get("/api/v1/grants/").json()["results"] == []
    ended = client.get("/api/v1/grants/?include=ended").json()["results"]
    assert [g["status"] for g in ended] == ["revoked"]
    assert staff.get("/api/v1/guests/export/").status_code == 403


def test_grants_are_refused_to_lower_roles_and_read_keys_and_checked(tenant_a):
    clerk = member(tenant_a, "clerk2@alpha.test", "front_office")
    manager = member(tenant_a, "gm2@alpha.test", "general_manager")
    body = {
        "user": clerk.pk,
        "object": "guest",
        "action": "delete",
        "expires_at": (timezone.now() + timedelta(hours=1)).isoformat(),
    }
    for client in (session_client(tenant_a, manager), admin_client(tenant_a, "admin:read")):
        assert send(client, "post", "/api/v1/grants/", body).status_code == 403
    assert session_client(tenant_a, manager).get("/api/v1/grants/").status_code == 403
    past = send(
        admin_client(tenant_a),
        "post",
        "/api/v1/grants/",
        {**body, "expires_at": (timezone.now() - timedelta(hours=1)).isoformat()},
    )
    assert past.status_code == 400
    assert past.json()["errors"][0]["field"] == "expires_at"
    both = send(admin_client(tenant_a), "post", "/api/v1/grants/", {**body, "field": "surname"})
    assert both.status_code == 400
    with tenant_context(tenant_a):
        assert not TemporaryGrant.objects.exists()


# --- activities -------------------------------------------------------------------------


def test_front_office_logs_a_call_and_a_task_due_in_the_tenants_time_zone(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(surname="Okafor")
    desk = member(tenant_a, "desk@alpha.test", "front_office")
    owner = member(tenant_a, "owner@alpha.test", "front_office")
    client = session_client(tenant_a, desk)

    call = send(
        client,
        "post",
        "/api/v1/activities/",
        {
            "object": "guest",
            "record_id": guest.pk,
            "kind": "call",
            "subject": "Asked for a late check-out",
            "direction": "inbound",
            "duration_seconds": 180,
        },
    )
    task = send(
        client,
        "post",
        "/api/v1/activities/",
        {
            "object": "guest",
            "record_id": guest.pk,
            "kind": "task",
            "subject": "Confirm late check-out",
            "assignee": owner.pk,
            "due_at": "2030-06-01T18:00:00",  # no offset: Paris time
        },
    )

    assert call.status_code == 201, call.content
    assert task.status_code == 201, task.content
    made = task.json()
    assert made["due_at_local"] == "2030-06-01T18:00:00+02:00"
    assert datetime.fromisoformat(made["due_at"].replace("Z", "+00:00")) == datetime(
        2030, 6, 1, 18, 0, tzinfo=PARIS
    )
    assert made["assignee_email"] == "owner@alpha.test" and made["completed_at"] is None
    listed = client.get(f"/api/v1/activities/?object=guest&record_id={guest.pk}").json()
    assert [a["kind"] for a in listed["results"]] == ["task", "call"]
    assert listed["results"][1]["duration_seconds"] == 180

    done = session_client(tenant_a, owner).post(f"/api/v1/activities/{made['id']}/complete/")

    assert done.status_code == 200, done.content
    assert done.json()["completed_at"] is not None
    with tenant_context(tenant_a):
        assert Activity.objects.get(pk=made["id"]).completed_at is not None


def test_activities_refused_to_a_read_only_role_and_hidden_outside_the_hotel_scope(tenant_a):
    with tenant_context(tenant_a):
        lisbon, porto = make_property(code="ACT1"), make_property(code="ACT2")
        guest = make_guest(surname="Lisbon")
        make_reservation(property=lisbon, guest=guest)
        task = Activity.objects.create(
            kind="task", object_api_name="guest", record_id=str(guest.pk), subject="Flowers",
            occurred_at=timezone.now(),
        )  # fmt: skip
    reader = session_client(tenant_a, member(tenant_a, "ro@alpha.test", "read_only"))
    porto_desk = session_client(
        tenant_a, member(tenant_a, "porto@alpha.test", "front_office", hotels=[porto.pk])
    )
    note = {"object": "guest", "record_id": guest.pk, "kind": "note", "body": "VIP"}

    refused = send(reader, "post", "/api/v1/activities/", note)
    assert refused.status_code == 403 and code_of(refused) == "permission_denied"
    assert reader.post(f"/api/v1/activities/{task.pk}/complete/").status_code == 403
    # The reader may look, though.
    assert reader.get(f"/api/v1/activities/{task.pk}/").status_code == 200

    # Another hotel's guest is not there at all for a hotel-limited desk.
    assert send(porto_desk, "post", "/api/v1/activities/", note).status_code == 404
    assert porto_desk.get(f"/api/v1/activities/{task.pk}/").status_code == 404
    assert porto_desk.post(f"/api/v1/activities/{task.pk}/complete/").status_code == 404
    listed = porto_desk.get(f"/api/v1/activities/?object=guest&record_id={guest.pk}")
    assert listed.status_code == 404

    with tenant_context(tenant_a):
        assert list(Activity.objects.values_list("kind", flat=True)) == ["task"]
        assert Activity.objects.get(pk=task.pk).completed_at is None


def test_bad_activity_input_is_a_400_naming_the_field(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest()
    client = admin_client(tenant_a)
    no_subject = send(
        client, "post", "/api/v1/activities/",
        {"object": "guest", "record_id": guest.pk, "kind": "task"},
    )  # fmt: skip
    assert no_subject.status_code == 400
    assert no_subject.json()["errors"][0]["field"] == "subject"
    due_note = send(
        client, "post", "/api/v1/activities/",
        {"object": "guest", "record_id": guest.pk, "kind": "note", "due_at": "2030-01-01T10:00"},
    )  # fmt: skip
    assert due_note.status_code == 400
    assert due_note.json()["errors"][0]["field"] == "due_at"
    for due in ("0001-01-01T00:05:00", "9999-12-31T23:59:59"):
        far = send(
            client, "post", "/api/v1/activities/",
            {"object": "guest", "record_id": guest.pk, "kind": "task", "subject": "x",
             "due_at": due},
        )  # fmt: skip
        assert far.status_code == 400 and far.json()["errors"][0]["field"] == "due_at"
    with tenant_context(tenant_a):
        assert not Activity.objects.exists()


def test_a_role_is_created_with_its_rights_in_one_request(tenant_a):
    client = admin_client(tenant_a)
    made = send(
        client,
        "post",
        "/api/v1/roles/",
        {
            "key": "night_manager",
            "name": "Night manager",
            "objects": {
                "module:reservations": {"actions": ["view", "edit"], "field_default": "read"}
            },
            "fields": [{"object": "guest", "field": "birth_date", "access": "read"}],
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["objects"] == {
        "module:reservations": {"actions": ["edit", "view"], "field_default": "read"}
    }
    assert body["fields"] == [{"object": "guest", "field": "birth_date", "access": "read"}]
    bad = send(
        client,
        "post",
        "/api/v1/roles/",
        {"key": "broken", "name": "Broken", "objects": {"guest": {"actions": ["fly"]}}},
    )
    assert bad.status_code == 400
    with tenant_context(tenant_a):
        from tenants.access.models import Role

        assert not Role.objects.filter(key="broken").exists()
