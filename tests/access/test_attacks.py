"""Regression tests for the holes an attack on a running ``make run`` found at the doors
(security issue, numbered as in the report). Each reproduces the attack and checks that
it now fails safe: a 403/400 with a code, and nothing written."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from crm.models import Case, Guest, ImportUpload, Reservation
from tenants.access.models import Role
from tenants.access.principal import Principal
from tenants.access.services import user_property_scope_set, user_roles_set
from tenants.integrations.services import api_key_create
from tenants.jobs.models import Job
from tenants.users.models import User
from tests.api.test_ota_push import PAYLOAD
from tests.conftest import PASSWORD
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def member(tenant, email: str, *roles: str, hotels: list[int] | None = None) -> User:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD)
        user_roles_set(user=user, roles=Role.objects.filter(key__in=roles), actor=SYSTEM)
        if hotels is not None:
            user_property_scope_set(user=user, property_ids=hotels, actor=SYSTEM)
        return User.objects.get(pk=user.pk)


def key_client(tenant, user: User, *scopes: str) -> Client:
    with tenant_context(tenant):
        token = api_key_create(name="probe", user=user, scopes=list(scopes), actor=SYSTEM).plaintext
    return Client(HTTP_HOST=f"{tenant.slug}.test", HTTP_AUTHORIZATION=f"Bearer {token}")


def session_client(tenant, user: User) -> Client:
    client = Client(HTTP_HOST=f"{tenant.slug}.test")
    assert client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def code_of(response) -> str:
    return response.json()["errors"][0]["code"]


# --- 1. the jobs API ---------------------------------------------------------------------


def test_1_jobs_api_cannot_start_an_import_with_a_path_or_a_user(tenant_a, tmp_path):
    victim = tmp_path / "keep-me.txt"
    victim.write_text("precious")
    reader = member(tenant_a, "reader1@alpha.test", "read_only")
    client = session_client(tenant_a, reader)
    with tenant_context(tenant_a):
        admin_id = User.objects.get(email="admin@alpha.test").pk
    forged = {
        "kind": "crm.import",
        "payload": {"object_api_name": "guest", "path": str(victim), "user_id": admin_id},
    }
    refused = post(client, "/api/v1/jobs/", forged)
    assert refused.status_code == 403 and code_of(refused) == "permission_denied"
    # An administrator cannot either: imports start only through the import service.
    admin = Client(HTTP_HOST="alpha.test")
    admin.post("/login/", {"username": "admin@alpha.test", "password": PASSWORD})
    also_refused = post(admin, "/api/v1/jobs/", forged)
    assert also_refused.status_code == 400 and code_of(also_refused) == "not_startable"
    assert victim.read_text() == "precious"
    with tenant_context(tenant_a):
        assert not Job.objects.filter(kind="crm.import").exists()


def test_1_import_jobs_take_uploads_by_owned_id_and_list_only_ones_own(tenant_a):
    from crm.services.imports import import_job_handle, import_upload_check

    clerk = member(tenant_a, "clerk1@alpha.test", "front_office")
    other = member(tenant_a, "clerk2@alpha.test", "front_office")
    with tenant_context(tenant_a):
        checked = import_upload_check(
            object_api_name="guest",
            file_name="g.csv",
            content=b"surname,given_name\nLima,Ana\n",
            actor=Principal.of(clerk),
        )
        # Someone else's upload id is as good as none.
        from crm.services.imports import import_upload_start

        with pytest.raises(Exception) as refused:
            import_upload_start(upload=checked["upload"], actor=Principal.of(other))
        assert "upload" in refused.value.message_dict
        job = import_upload_start(upload=checked["upload"], actor=Principal.of(clerk))
        # A job whose payload was tampered with to point at a path runs nothing.
        Job.objects.filter(pk=job.pk).update(payload={**job.payload, "upload": "/etc/passwd"})
        job.refresh_from_db()
        with pytest.raises(Exception) as gone:
            import_job_handle(job)
        assert "upload" in gone.value.message_dict
        assert Path("/etc/passwd").exists()
    # The jobs API lists the caller's own jobs only.
    assert session_client(tenant_a, other).get("/api/v1/jobs/").json()["results"] == []
    mine = session_client(tenant_a, clerk).get("/api/v1/jobs/").json()["results"]
    assert [j["id"] for j in mine] == [str(job.pk)]
    assert session_client(tenant_a, other).get(f"/api/v1/jobs/{job.pk}/").status_code == 404


# --- 2. OTA push ---------------------------------------------------------------------------


@pytest.fixture
def two_hotels(tenant_a):
    with tenant_context(tenant_a):
        one = make_property(code="HBR1")
        two = make_property(code="HBR2")
    return one, two


def test_2_ota_push_needs_the_reservation_write_right(tenant_a, two_hotels):
    with tenant_context(tenant_a):
        guest = make_guest(given_name="Mei", surname="Chen", emails=["mei.chen@example.com"])
    reader = member(tenant_a, "ro-ota@alpha.test", "read_only")
    response = post(key_client(tenant_a, reader, "*"), "/api/v1/reservations/ota", PAYLOAD)
    assert response.status_code == 403 and code_of(response) == "permission_denied"
    with tenant_context(tenant_a):
        guest.refresh_from_db()
        assert (guest.given_name, guest.surname) == ("Mei", "Chen")
        assert not Reservation.objects.exists()


def test_2_ota_push_refuses_hotels_outside_the_callers_scope(tenant_a, two_hotels):
    one, two = two_hotels
    with tenant_context(tenant_a):
        guest = make_guest()
        theirs = make_reservation(property=one, guest=guest, confirmation_number="ABC123")
    desk = member(tenant_a, "ota2@alpha.test", "reservations", hotels=[two.pk])
    attack = copy.deepcopy(PAYLOAD)
    attack["HotelReservations"][0]["ResStatus"] = "Cancel"
    attack["HotelReservations"][0]["RoomStays"][0]["Total"]["AmountAfterTax"] = "1.00"
    response = post(key_client(tenant_a, desk, "*"), "/api/v1/reservations/ota", attack)
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] == "error"
    assert result["errors"][0]["code"] == "permission_denied"
    assert result["errors"][0]["field"] == "BasicPropertyInfo.HotelCode"
    with tenant_context(tenant_a):
        theirs.refresh_from_db()
        assert theirs.status == "reserved" and theirs.total_amount == Decimal("300")


def test_2_ota_push_respects_field_rights_on_guest_profiles(tenant_a, two_hotels):
    _one, two = two_hotels
    with tenant_context(tenant_a):
        make_guest(given_name="Mei", surname="Chen", emails=["mei.chen@example.com"])
    desk = member(tenant_a, "ota3@alpha.test", "reservations")
    with_birth_date = copy.deepcopy(PAYLOAD)
    customer = with_birth_date["HotelReservations"][0]["ResGuests"][0]["Profiles"][0]["Customer"]
    customer["BirthDate"] = "1980-01-01"
    customer["PersonName"]["GivenName"] = "Renamed"
    response = post(key_client(tenant_a, desk, "*"), "/api/v1/reservations/ota", with_birth_date)
    [result] = response.json()["results"]
    assert result["status"] == "error"
    assert result["errors"][0]["code"] == "permission_denied"
    with tenant_context(tenant_a):
        assert not Guest.objects.filter(given_name="Renamed").exists()
        assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("RoomStays", 0, "GuestCounts", 0, "Count"), "abc", "GuestCounts.Count"),
        (("RoomStays", 0, "Total", "AmountAfterTax"), "NaN", "Total.AmountAfterTax"),
        (("RoomStays", 0, "Total", "AmountAfterTax"), "1e30", "Total.AmountAfterTax"),
        (
            ("ResGuests", 0, "Profiles", 0, "Customer", "PersonName"),
            "ab",
            "Customer.PersonName",
        ),
    ],
)
def test_2_ota_bad_values_are_named_never_a_500(tenant_a, two_hotels, path, value, field):
    bad = copy.deepcopy(PAYLOAD)
    target = bad["HotelReservations"][0]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with tenant_context(tenant_a):
        admin = User.objects.get(email="admin@alpha.test")
    response = post(key_client(tenant_a, admin, "*"), "/api/v1/reservations/ota", bad)
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] == "error"
    assert result["errors"][0]["field"] == field


# --- 5. filters and ordering on fields the caller cannot read --------------------------


def test_5_filtering_or_ordering_by_a_hidden_field_is_a_403_naming_it(tenant_a):
    from metadata.services.definitions import custom_field_create

    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="credit_score",
            label="Credit",
            type="integer",
            sensitive=True,
            actor=SYSTEM,
        )
        make_guest(birth_date=date(1980, 5, 17), custom={"credit_score": 700})
    desk = session_client(tenant_a, member(tenant_a, "bisect@alpha.test", "front_office"))
    for query, field in (
        ("birth_date__lte=1980-06-01", "birth_date"),
        ("birth_date=1980-05-17", "birth_date"),
        ("custom.credit_score__gte=600", "credit_score"),
        ("ordering=birth_date", "birth_date"),
        ("ordering=-custom.credit_score", "credit_score"),
    ):
        response = desk.get(f"/api/v1/guests/?{query}")
        assert response.status_code == 403, (query, response.content)
        error = response.json()["errors"][0]
        assert error["code"] == "permission_denied" and error["field"] == field
        assert field in error["message"]
    # Exports take the same filters through the same selector.
    exported = desk.get("/api/v1/guests/export/?birth_date__lte=1980-06-01")
    assert exported.status_code == 403
    # Readable fields still filter.
    assert desk.get("/api/v1/guests/?surname__contains=a").status_code == 200


def test_5_search_looks_only_in_fields_the_reader_may_read(tenant_a):
    from tenants.access.services import role_create, role_object_permission_set

    with tenant_context(tenant_a):
        make_guest(surname="Visible", emails=["secret-mail@example.com"])
        role = role_create(key="names_only", name="Names only", actor=SYSTEM)
        role_object_permission_set(
            role=role, target="guest", actions=["view"], field_default="hidden", actor=SYSTEM
        )
        from tenants.access.services import role_field_permission_set

        role_field_permission_set(
            role=role,
            object_api_name="guest",
            field_api_name="surname",
            access="read",
            actor=SYSTEM,
        )
    reader = session_client(tenant_a, member(tenant_a, "names@alpha.test", "names_only"))
    assert reader.get("/api/v1/guests/?q=secret-mail").json()["results"] == []
    assert len(reader.get("/api/v1/guests/?q=Visible").json()["results"]) == 1


# --- 6. imports and field rights ---------------------------------------------------------


def test_6_imports_need_the_edit_level_of_every_mapped_field(tenant_a):
    desk = member(tenant_a, "importer@alpha.test", "front_office")
    client = session_client(tenant_a, desk)
    csv = b"surname,given_name,id_document_type,id_document_number\nLima,Ana,passport,K1\n"
    response = client.post(
        "/imports/", {"object": "guest", "file": SimpleUploadedFile("g.csv", csv)}
    )
    assert response.status_code == 403
    assert b"id_document_number" in response.content or b"id_document_type" in response.content
    with tenant_context(tenant_a):
        from crm.services.imports import import_file

        path = Path(ImportUpload.folder()) / "direct.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(csv)
        with pytest.raises(Exception) as refused:
            import_file(object_api_name="guest", path=path, dry_run=False, actor=Principal.of(desk))
        assert getattr(refused.value, "code", "") == "permission_denied"
        path.unlink()
        assert not Guest.objects.filter(surname="Lima").exists()
        assert not ImportUpload.objects.exists()


def test_6_reservation_imports_refuse_rows_of_other_hotels(tenant_a, two_hotels):
    from crm.services.imports import import_file

    one, two = two_hotels
    with tenant_context(tenant_a):
        guest = make_guest()
        from crm.services.guests import guest_external_id_add

        guest_external_id_add(guest=guest, source="IMPORT", external_id="G1", actor=SYSTEM)
    desk = member(tenant_a, "resimport@alpha.test", "reservations", hotels=[two.pk])
    header = "property,confirmation_number,arrival,departure,total_amount,guest_external_id\n"
    rows = "HBR1,X1,2026-12-01,2026-12-03,100,G1\nHBR2,X2,2026-12-01,2026-12-03,100,G1\n"
    with tenant_context(tenant_a):
        path = Path(ImportUpload.folder()) / "res.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + rows)
        report = import_file(
            object_api_name="reservation", path=path, dry_run=False, actor=Principal.of(desk)
        )
        path.unlink()
        assert report["created"] == 1 and report["invalid"] == 1
        assert report["errors"][0]["errors"][0]["field"] == "property"
        assert list(Reservation.objects.values_list("property_id", flat=True)) == [two.pk]


# --- 7. hotel scope on creates -------------------------------------------------------------


def test_7_a_hotel_scoped_user_cannot_create_at_another_hotel(tenant_a, two_hotels):
    one, two = two_hotels
    with tenant_context(tenant_a):
        guest = make_guest()
    desk = member(tenant_a, "hotel2@alpha.test", "reservations", "service_agent", hotels=[two.pk])
    client = key_client(tenant_a, desk, "*")
    stay = {
        "property": one.pk,
        "guest": guest.pk,
        "confirmation_number": "EVIL1",
        "arrival": "2026-12-01",
        "departure": "2026-12-03",
        "total_amount": "10.00",
    }
    single = post(client, "/api/v1/reservations/", stay)
    # A hotel out of reach looks like one that does not exist: 404 naming the field.
    assert single.status_code == 404, single.content
    assert single.json()["errors"][0]["field"] == "property"
    bulk = post(client, "/api/v1/reservations/bulk/", {"records": [stay]})
    assert bulk.json()["results"][0]["status"] == "error"
    case = post(client, "/api/v1/cases/", {"subject": "Evil", "property": one.pk})
    assert case.status_code == 404
    no_hotel = post(client, "/api/v1/cases/", {"subject": "Floating"})
    assert no_hotel.status_code == 403 and no_hotel.json()["errors"][0]["field"] == "property"
    with tenant_context(tenant_a):
        assert not Reservation.objects.filter(property=one).exists()
        assert not Case.objects.exists()
    # At their own hotel it works, single and bulk.
    ok = post(client, "/api/v1/reservations/", {**stay, "property": two.pk})
    assert ok.status_code == 201, ok.content
    again = post(
        client,
        "/api/v1/reservations/bulk/",
        {"records": [{**stay, "property": two.pk, "confirmation_number": "OK2"}]},
    )
    assert again.json()["results"][0]["status"] == "created"


def test_7_a_hotel_scoped_user_cannot_move_or_touch_another_hotels_records(tenant_a, two_hotels):
    one, two = two_hotels
    with tenant_context(tenant_a):
        theirs = make_reservation(property=one, guest=make_guest())
    desk = member(tenant_a, "hotel2b@alpha.test", "reservations", hotels=[two.pk])
    client = key_client(tenant_a, desk, "*")
    assert client.get(f"/api/v1/reservations/{theirs.pk}/").status_code == 404
    patched = client.patch(
        f"/api/v1/reservations/{theirs.pk}/",
        json.dumps({"status": "cancelled"}),
        content_type="application/json",
    )
    assert patched.status_code == 404
    with tenant_context(tenant_a):
        theirs.refresh_from_db()
        assert theirs.status == "reserved"


# --- no 500 on bad input -------------------------------------------------------------------


def admin_key(tenant) -> Client:
    with tenant_context(tenant):
        admin = User.objects.get(email=f"admin@{tenant.slug}.test")
    return key_client(tenant, admin, "*")


def test_bad_values_on_every_write_path_are_400s_naming_the_field(tenant_a):
    client = admin_key(tenant_a)
    made = post(client, "/api/v1/guests/", {"given_name": "A", "surname": "B"})
    gid = made.json()["id"]
    for method, path, body, field in (
        ("post", "/api/v1/guests/", {"surname": "B", "birth_date": "yesterday"}, "birth_date"),
        ("patch", f"/api/v1/guests/{gid}/", {"birth_date": "2020-13-45"}, "birth_date"),
        ("patch", f"/api/v1/guests/{gid}/", {"birth_date": 19800101}, "birth_date"),
        ("post", "/api/v1/guests/", {"surname": "x" * 100_000}, "surname"),
        ("post", "/api/v1/guests/", {"surname": "B", "vip_level": 2**70}, "vip_level"),
        ("post", "/api/v1/guests/", {"surname": "\ud800"}, "surname"),
        ("post", "/api/v1/reservations/", {"total_amount": "NaN"}, "total_amount"),
        ("post", "/api/v1/reservations/", {"total_amount": "1e30"}, "total_amount"),
    ):
        response = getattr(client, method)(path, json.dumps(body), content_type="application/json")
        assert response.status_code == 400, (path, body, response.content[:300])
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (body, fields)
    with tenant_context(tenant_a):
        assert Guest.objects.get(pk=gid).birth_date is None
        assert Guest.objects.count() == 1


def test_bulk_with_a_bad_birth_date_fails_that_record_alone(tenant_a):
    client = admin_key(tenant_a)
    response = post(
        client,
        "/api/v1/guests/bulk/",
        {
            "records": [
                {"external_id": "1", "surname": "Good"},
                {"external_id": "2", "surname": "Bad", "birth_date": "not a date"},
                {"external_id": "3", "surname": "Also good"},
            ]
        },
    )
    assert [r["status"] for r in response.json()["results"]] == ["created", "error", "created"]
    assert response.json()["results"][1]["errors"][0]["field"] == "birth_date"


def test_absurd_bodies_are_refused_before_any_work(tenant_a):
    client = admin_key(tenant_a)
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/guests/", deep, content_type="application/json")
    assert response.status_code == 400
    nested = {"surname": "B", "custom": {"a": json.loads("[" * 40 + "]" * 40)}}
    assert post(client, "/api/v1/guests/", nested).status_code == 400


def test_records_of_tenant_objects_refuse_wrong_types(tenant_a):
    from metadata.services.definitions import object_definition_create

    with tenant_context(tenant_a):
        object_definition_create(
            api_name="supplier",
            label="Supplier",
            label_plural="Suppliers",
            module="guests",
            actor=SYSTEM,
        )
    client = admin_key(tenant_a)
    base = "/api/v1/objects/supplier/records/"
    for body, field, status in (
        ({"name": 5}, "name", 400),
        ({"name": "A", "owner_id": "abc"}, "owner_id", 400),
        ({"name": "A", "owner_id": 2**70}, "owner_id", 400),
        # a well-formed id naming no one: the linked record is not found
        ({"name": "A", "owner_id": 999_999}, "owner_id", 404),
    ):
        response = post(client, base, body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["errors"][0]["field"] == field


def test_bad_list_parameters_are_400s(tenant_a):
    from metadata.services.definitions import custom_field_create

    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="hobbies",
            label="Hobbies",
            type="multi_choice",
            choices=[{"value": "golf", "label": "Golf"}],
            actor=SYSTEM,
        )
    client = admin_key(tenant_a)
    import base64

    huge_cursor = base64.urlsafe_b64encode(json.dumps({"o": 10**40}).encode()).decode()
    for query, field in (
        ("custom.hobbies__contains=chess", "hobbies"),
        (f"cursor={huge_cursor}", "cursor"),
        ("id=99999999999999999999999", "id"),
        ("vip_level__gte=high", "vip_level"),
        ("arrival=tomorrow", None),
    ):
        response = client.get(f"/api/v1/guests/?{query}")
        assert response.status_code == 400, (query, response.content[:300])
        if field:
            assert response.json()["errors"][0]["field"] == field


def test_reservation_patch_with_null_links_is_a_400(tenant_a, two_hotels):
    one, _ = two_hotels
    with tenant_context(tenant_a):
        stay = make_reservation(property=one, guest=make_guest())
    client = admin_key(tenant_a)
    response = client.patch(
        f"/api/v1/reservations/{stay.pk}/",
        json.dumps(
            {
                "arrival": (date(2026, 3, 1) + timedelta(days=1)).isoformat(),
                "booker_guest": None,
                "booker_company": None,
                "guest": None,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "guest"


# --- 9. workflow run logs and message contexts ---------------------------------------------


def _secret_workflow(author: User):
    from crm.models import Activity
    from metadata.services.definitions import custom_field_create, object_definition_create
    from metadata.services.records import record_create
    from metadata.services.workflows import workflow_create
    from metadata.workflows.engine import workflow_run_manual

    object_definition_create(
        api_name="dossier", label="Dossier", label_plural="Dossiers", module="guests", actor=SYSTEM
    )
    custom_field_create(
        object_api_name="dossier",
        api_name="passport_no",
        label="Passport",
        type="text",
        sensitive=True,
        actor=SYSTEM,
    )
    workflow = workflow_create(
        key="leaky",
        name="Leaky",
        object_api_name="dossier",
        trigger={"type": "manual"},
        actions=[{"type": "create_task", "subject": "Check {{ record.passport_no }} now"}],
        actor=Principal.of(author),
    )
    record = record_create(
        object_api_name="dossier", name="D1", data={"passport_no": "P-SECRET-9"}, actor=SYSTEM
    )
    [run] = workflow_run_manual(workflow=workflow, record_ids=[record.pk], actor=SYSTEM)
    return workflow, run, record, Activity


def test_9_run_logs_and_messages_never_show_what_author_or_reader_cannot_read(
    tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.ATRIUM_WORKFLOWS_INLINE = True
    author = member(tenant_a, "wf-author@alpha.test", "tenant_admin")
    with tenant_context(tenant_a):
        with django_capture_on_commit_callbacks(execute=True):
            workflow, run, record, Activity = _secret_workflow(author)
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
        task = Activity.objects.get(pk=run.steps.get(index=0).detail["task_id"])
        # The author is an administrator: the value may travel in this task.
        assert task.subject == "Check P-SECRET-9 now"
        # Once the author loses the role, the workflow can no longer read the field.
        user_roles_set(user=author, roles=Role.objects.filter(key="front_office"), actor=SYSTEM)
        from metadata.workflows.engine import workflow_run_manual

        with django_capture_on_commit_callbacks(execute=True):
            [again] = workflow_run_manual(workflow=workflow, record_ids=[record.pk], actor=SYSTEM)
        again.refresh_from_db()
        later = Activity.objects.get(pk=again.steps.get(index=0).detail["task_id"])
        assert "P-SECRET-9" not in later.subject
        admin = User.objects.get(email="admin@alpha.test")
    # Run logs: an administrator's key narrowed to admin:read cannot read the dossier's
    # fields, so the rendered texts are withheld; a full key sees them.
    narrow = key_client(tenant_a, admin, "admin:read")
    body = narrow.get(f"/api/v1/workflows/runs/{run.pk}/").content.decode()
    assert "P-SECRET-9" not in body and "withheld" in body
    full = key_client(tenant_a, admin, "*")
    assert "P-SECRET-9" in full.get(f"/api/v1/workflows/runs/{run.pk}/").content.decode()
    dry = post(narrow, "/api/v1/workflows/leaky/dry-run/", {"record_id": record.pk})
    assert dry.status_code == 403  # a dry run is a write-side door (admin:write)
    # Staff who are not administrators read no run log at all.
    reader = session_client(tenant_a, member(tenant_a, "ro-wf@alpha.test", "read_only"))
    refused = reader.get(f"/api/v1/workflows/runs/{run.pk}/")
    assert refused.status_code == 403 and "P-SECRET-9" not in refused.content.decode()
