"""The screens of the roles and rights editor, a user's access page, temporary grants
and the guest profile's notes, calls and tasks: each write lands through the access or
activity service, and refusals (lower roles, hotel-limited staff) write nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.models import Activity
from crm.services.properties import property_create
from metadata.services.definitions import custom_field_create, object_definition_create
from tenants.access.models import (
    AuditEvent,
    FieldPermission,
    ObjectPermission,
    PropertyScope,
    Role,
    TemporaryGrant,
)
from tenants.access.principal import Principal
from tests.access.conftest import client_for
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")  # tenant alpha's time zone
ACTIONS_ALL = ["view", "create", "edit", "delete", "export"]


@pytest.fixture
def wine_list(alpha):
    object_definition_create(
        api_name="wine_order", label="Wine order", label_plural="Wine orders", module="guests",
        actor=SYSTEM,
    )  # fmt: skip
    custom_field_create(
        object_api_name="wine_order", api_name="vintage", label="Vintage", type="integer",
        actor=SYSTEM,
    )  # fmt: skip
    return "wine_order"


def _rights_form(
    role_key: str, rights: dict[str, tuple[list[str], str]], targets: list[str], **about: str
):
    data: dict = {"name": role_key.title(), "description": "", "target": targets, **about}
    for target in targets:
        actions, level = rights.get(target, ([], "hidden"))
        data[f"a:{target}"] = actions
        data[f"f:{target}"] = level
    return data


def test_an_admin_creates_a_role_and_grants_it_a_new_record_type(make_user, alpha, wine_list):
    admin = client_for(make_user("tenant_admin"), alpha)
    listing = admin.get("/settings/roles/")
    assert listing.status_code == 200
    assert "Front desk: arrivals, stays and guest requests." in listing.content.decode()

    created = admin.post("/settings/roles/", {"name": "Sommelier", "description": "Wine service."})

    assert created.status_code == 302 and created["Location"] == "/settings/roles/sommelier/"
    page = admin.get("/settings/roles/sommelier/").content.decode()
    # The tenant's own record type is offered, marked as such, with its field page.
    assert 'data-target="wine_order"' in page
    assert "/settings/roles/sommelier/objects/wine_order/" in page
    assert 'data-target="module:guests"' in page and 'data-target="*"' in page
    targets = ["*", "module:guests", "wine_order", "guest"]

    saved = admin.post(
        "/settings/roles/sommelier/",
        _rights_form(
            "sommelier",
            {"wine_order": (["view", "create", "edit"], "edit"), "guest": (["view"], "read")},
            targets,
            description="Wine service.",
        ),
    )

    assert saved.status_code == 302
    role = Role.objects.get(key="sommelier")
    assert role.description == "Wine service."
    assert {p.target: sorted(p.actions()) for p in role.object_permissions.all()} == {
        "wine_order": ["create", "edit", "view"],
        "guest": ["view"],
    }
    audits = AuditEvent.objects.filter(action="permission_change", details__role="sommelier")
    assert audits.count() == 2
    # The same form again changes nothing and leaves no new audit row.
    admin.post(
        "/settings/roles/sommelier/",
        _rights_form(
            "sommelier",
            {"wine_order": (["view", "create", "edit"], "edit"), "guest": (["view"], "read")},
            targets,
            description="Wine service.",
        ),
    )
    assert audits.count() == 2
    member = make_user("sommelier")
    assert Principal.of(member).actions("wine_order") == frozenset({"view", "create", "edit"})
    assert Principal.of(member).field_level("wine_order", "vintage") == "edit"


def test_field_by_field_opens_a_sensitive_field_for_one_role(make_user, alpha):
    admin = client_for(make_user("tenant_admin"), alpha)
    page = admin.get("/settings/roles/front_office/objects/guest/").content.decode()
    assert 'name="fl:birth_date"' in page and "sensitive" in page
    clerk = make_user("front_office")
    assert Principal.of(clerk).field_level("guest", "birth_date") == "hidden"

    admin.post(
        "/settings/roles/front_office/objects/guest/",
        {"fl:birth_date": "read", "fl:surname": "", "fl:vip_level": "hidden"},
    )

    rows = {
        p.field_api_name: p.access
        for p in FieldPermission.objects.filter(role__key="front_office", object_api_name="guest")
    }
    assert rows == {"birth_date": "read", "vip_level": "hidden"}
    clerk = type(clerk).objects.get(pk=clerk.pk)
    assert Principal.of(clerk).field_level("guest", "birth_date") == "read"
    assert Principal.of(clerk).field_level("guest", "vip_level") == "hidden"
    assert Principal.of(clerk).field_level("guest", "surname") == "edit"


def test_an_admin_sets_a_users_roles_and_hotels_then_switches_them_off(make_user, alpha):
    paris = property_create(code="UPA", name="Alpha Paris", country="FR", currency="EUR",
                            actor=SYSTEM)  # fmt: skip
    property_create(code="UNI", name="Alpha Nice", country="FR", currency="EUR", actor=SYSTEM)
    admin = client_for(make_user("tenant_admin"), alpha)
    clerk = make_user("read_only", email="newdesk@alpha.test")
    page = admin.get(f"/settings/users/{clerk.pk}/").content.decode()
    assert "Alpha Paris (UPA)" in page and "Front desk: arrivals, stays and guest requests." in page

    saved = admin.post(
        f"/settings/users/{clerk.pk}/",
        {"roles": ["front_office", "service_agent"], "scope": "some", "hotels": [str(paris.pk)]},
    )

    assert saved.status_code == 302
    assert sorted(clerk.access_roles.values_list("key", flat=True)) == [
        "front_office",
        "service_agent",
    ]
    assert PropertyScope.objects.get(user=clerk).property_ids == [paris.pk]
    assert AuditEvent.objects.filter(action="role_assign", record_id=str(clerk.pk)).exists()
    assert AuditEvent.objects.filter(
        action="property_scope_change", record_id=str(clerk.pk)
    ).exists()

    # Every hotel again lifts the limit.
    admin.post(f"/settings/users/{clerk.pk}/", {"roles": ["front_office"], "scope": "all"})
    assert not PropertyScope.objects.filter(user=clerk).exists()

    off = admin.post(f"/settings/users/{clerk.pk}/deactivate/")
    assert off.status_code == 302
    clerk.refresh_from_db()
    assert clerk.is_active is False
    assert AuditEvent.objects.filter(action="user_deactivate", record_id=str(clerk.pk)).exists()


def test_the_editor_is_closed_to_lower_roles_and_their_posts_write_nothing(make_user, alpha):
    manager = client_for(make_user("general_manager"), alpha)
    victim = make_user("read_only")
    before = AuditEvent.objects.count()
    for path in ("/settings/roles/", "/settings/roles/front_office/", "/settings/grants/",
                 f"/settings/users/{victim.pk}/"):  # fmt: skip
        assert manager.get(path).status_code == 403, path
    posts = [
        ("/settings/roles/", {"name": "Sneaky"}),
        (
            "/settings/roles/front_office/",
            _rights_form("front_office", {"guest": (ACTIONS_ALL, "edit")}, ["guest"]),
        ),
        ("/settings/roles/front_office/objects/guest/", {"fl:birth_date": "edit"}),
        (f"/settings/users/{victim.pk}/", {"roles": ["tenant_admin"], "scope": "all"}),
        (f"/settings/users/{victim.pk}/deactivate/", {}),
    ]
    for path, data in posts:
        assert manager.post(path, data).status_code == 403, path
    assert not Role.objects.filter(key="sneaky").exists()
    assert not ObjectPermission.objects.get(role__key="front_office", target="guest").can_delete
    assert not FieldPermission.objects.filter(role__key="front_office").exists()
    victim.refresh_from_db()
    assert victim.is_active and list(victim.access_roles.values_list("key", flat=True)) == [
        "read_only"
    ]
    assert AuditEvent.objects.count() == before


def test_an_admin_gives_a_grant_until_a_local_time_and_revokes_it(make_user, alpha, wine_list):
    admin = client_for(make_user("tenant_admin"), alpha)
    clerk = make_user("front_office", email="cover@alpha.test")
    assert not Principal.of(clerk).can("wine_order", "view")
    page = admin.get("/settings/grants/").content.decode()
    assert "Until (Europe/Paris)" in page and 'value="wine_order"' in page

    given = admin.post(
        "/settings/grants/",
        {
            "user": str(clerk.pk),
            "object": "wine_order",
            "what": "view",
            "until": "2031-03-01T09:30",
            "reason": "Covers the sommelier on Sunday",
        },
    )

    assert given.status_code == 302, given.content.decode()[:2000]
    grant = TemporaryGrant.objects.get(user=clerk)
    assert grant.expires_at == datetime(2031, 3, 1, 9, 30, tzinfo=PARIS)
    assert (grant.action, grant.reason) == ("view", "Covers the sommelier on Sunday")
    clerk = type(clerk).objects.get(pk=clerk.pk)
    assert Principal.of(clerk).can("wine_order", "view")
    listing = admin.get("/settings/grants/").content.decode()
    assert "cover@alpha.test" in listing and "2031-03-01 09:30" in listing

    revoked = admin.post(f"/settings/grants/{grant.pk}/revoke/")

    assert revoked.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    clerk = type(clerk).objects.get(pk=clerk.pk)
    assert not Principal.of(clerk).can("wine_order", "view")


def test_a_grant_without_a_reason_or_end_is_refused_on_screen(make_user, alpha):
    admin = client_for(make_user("tenant_admin"), alpha)
    clerk = make_user("front_office")
    refused = admin.post(
        "/settings/grants/",
        {"user": str(clerk.pk), "object": "guest", "what": "export", "until": "", "reason": ""},
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Say why the grant is needed." in body and "Give the end as a date and time." in body
    assert not TemporaryGrant.objects.exists()


def test_front_office_adds_a_note_logs_a_call_and_completes_a_task(make_user, alpha):
    guest = make_guest(given_name="Ines", surname="Duarte")
    desk_user = make_user("front_office", email="frontdesk@alpha.test")
    desk = client_for(desk_user, alpha)
    profile = f"/guests/{guest.pk}/"
    page = desk.get(profile).content.decode()
    assert "Due (Europe/Paris)" in page and 'name="kind" value="call"' in page

    desk.post(profile + "activities/", {"kind": "note", "body": "Allergic to feathers"})
    desk.post(
        profile + "activities/",
        {"kind": "call", "subject": "Booked a table", "direction": "outbound", "minutes": "4"},
    )
    desk.post(
        profile + "activities/",
        {
            "kind": "task",
            "subject": "Swap the pillows",
            "assignee": str(desk_user.pk),
            "due": "2030-01-15T14:00",
            "reminder": "2030-01-15T09:30",
        },
    )

    by_kind = {a.kind: a for a in Activity.objects.filter(record_id=str(guest.pk))}
    assert by_kind["note"].body == "Allergic to feathers"
    assert (by_kind["call"].direction, by_kind["call"].duration_seconds) == ("outbound", 240)
    task = by_kind["task"]
    assert task.due_at == datetime(2030, 1, 15, 14, 0, tzinfo=PARIS)
    assert task.reminder_at == datetime(2030, 1, 15, 9, 30, tzinfo=PARIS)
    assert task.assignee_id == desk_user.pk and task.created_by_id == desk_user.pk
    page = desk.get(profile).content.decode()
    assert "due 2030-01-15 14:00 (Europe/Paris)" in page and "Allergic to feathers" in page

    dashboard = desk.get("/").content.decode()
    assert f'href="/guests/{guest.pk}/#activity-{task.pk}">Swap the pillows</a>' in dashboard
    assert "due 2030-01-15 14:00 (Europe/Paris)" in dashboard

    done = desk.post(f"{profile}activities/{task.pk}/complete/")

    assert done.status_code == 302
    task.refresh_from_db()
    assert task.completed_at is not None
    assert "Done" in desk.get(profile).content.decode()
    # No longer among the open tasks (it stays in the recent activity).
    assert f"#activity-{task.pk}" not in desk.get("/").content.decode()


def test_activities_on_screen_refused_to_readers_and_hidden_from_other_hotels(make_user, alpha):
    lisbon, porto = make_property(code="SLX"), make_property(code="SPO")
    guest = make_guest(surname="Pereira")
    make_reservation(property=lisbon, guest=guest)
    task = Activity.objects.create(
        kind="task", object_api_name="guest", record_id=str(guest.pk), subject="Cake",
        occurred_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    reader = client_for(make_user("read_only"), alpha)
    porto_user = make_user("front_office")
    from tenants.access.services import user_property_scope_set

    user_property_scope_set(user=porto_user, property_ids=[porto.pk], actor=SYSTEM)
    porto_desk = client_for(porto_user, alpha)
    profile = f"/guests/{guest.pk}/"

    page = reader.get(profile).content.decode()
    assert 'name="kind"' not in page  # no forms for a reader
    assert reader.post(profile + "activities/", {"kind": "note", "body": "x"}).status_code == 403
    assert reader.post(f"{profile}activities/{task.pk}/complete/").status_code == 403
    assert porto_desk.post(profile + "activities/", {"kind": "note", "body": "x"}).status_code == (
        404
    )
    assert porto_desk.post(f"{profile}activities/{task.pk}/complete/").status_code == 404

    assert list(Activity.objects.values_list("pk", flat=True)) == [task.pk]
    task.refresh_from_db()
    assert task.completed_at is None


def test_the_editor_speaks_simplified_chinese(make_user, alpha, wine_list):
    admin = client_for(make_user("tenant_admin"), alpha)
    admin.post("/i18n/language/", {"language": "zh-hans", "next": "/"})
    listing = admin.get("/settings/roles/").content.decode()
    assert "<h1>角色</h1>" in listing and "新建角色" in listing
    assert "前台：到店、入住和宾客需求。" in listing  # a built-in role's description
    page = admin.get("/settings/roles/front_office/").content.decode()
    assert "权限" in page and "逐个字段" in page and "保存角色" in page
    grants = admin.get("/settings/grants/").content.decode()
    assert "<h1>临时授权</h1>" in grants and "截止时间（Europe/Paris）" in grants


def test_odd_activity_and_grant_input_is_a_message_not_an_error(make_user, alpha):
    guest = make_guest(surname="Odd")
    admin_user = make_user("tenant_admin")
    admin = client_for(admin_user, alpha)
    profile = f"/guests/{guest.pk}/"
    for data in (
        {"kind": "task", "subject": "X", "assignee": "99999999999999999999999"},
        {"kind": "task", "subject": "X", "assignee": "²"},
        {"kind": "task", "subject": "X", "due": "0001-01-01T00:10"},
        {"kind": "task", "subject": "X", "due": "tomorrow"},
        {"kind": "task", "subject": "X", "reminder": "later"},
        {"kind": "task", "subject": "X", "reminder": "9999-01-01T00:00"},
        {"kind": "call", "minutes": "٣٣٣٣٣"},
        {"kind": "note", "body": ""},
    ):
        answer = admin.post(profile + "activities/", data, follow=True)
        assert answer.status_code == 200, data
        assert 'class="message error"' in answer.content.decode(), data
    assert admin.post(profile + "activities/", {"kind": "email"}).status_code == 400
    for user in ("99999999999999999999999", "²"):
        refused = admin.post(
            "/settings/grants/",
            {"user": user, "object": "guest", "what": "view", "until": "2031-01-01T10:00",
             "reason": "x"},
        )  # fmt: skip
        assert refused.status_code == 400
        assert "Choose who receives the grant." in refused.content.decode()
    late = admin.post(
        "/settings/grants/",
        {"user": str(admin_user.pk), "object": "guest", "what": "view",
         "until": "0001-01-01T00:10", "reason": "x"},
    )  # fmt: skip
    assert late.status_code == 400
    assert not Activity.objects.exists() and not TemporaryGrant.objects.exists()


def test_screens_show_times_in_the_groups_zone_and_the_api_in_utc(make_user, alpha):
    from crm.services.activities import activity_create
    from tests.api.test_records_api import api

    guest = make_guest(surname="Zone")
    at = datetime(2030, 1, 15, 8, 5, tzinfo=ZoneInfo("UTC"))  # 09:05 in Paris
    call = activity_create(
        object_api_name="guest", record_id=guest.pk, kind="call", subject="Zone check",
        occurred_at=at, actor=SYSTEM,
    )  # fmt: skip
    admin = client_for(make_user("tenant_admin"), alpha)

    page = admin.get(f"/guests/{guest.pk}/").content.decode()
    entry = page[page.index(f'id="activity-{call.pk}"') :][:400]
    shown = entry[entry.index("<time") :].split(">", 1)[1].split("</time>")[0]
    assert "9:05" in shown and "8:05" not in shown, shown
    listed = api(alpha).get(f"/api/v1/activities/?object=guest&record_id={guest.pk}").json()
    assert [a["occurred_at"] for a in listed["results"]] == ["2030-01-15T08:05:00Z"]
    assert timezone.get_current_timezone_name() == "UTC"  # nothing left active after
