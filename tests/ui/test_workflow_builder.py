"""The workflow builder: list, create and edit through the API's services (errors next to
the input they concern), version history, dry run, run now, the run log, templates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Activity
from crm.services.guests import guest_create
from crm.services.properties import property_create
from crm.services.reservations import reservation_create
from metadata.models import Workflow, WorkflowRun
from metadata.services.workflows import workflow_create
from tests.access.conftest import client_for
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

CHECKOUT_FORM = {
    "key": "checkout_follow_up",
    "object": "reservation",
    "name.en": "Check-out follow-up",
    "name.zh-hans": "退房跟进",
    "enabled": "1",
    "trigger.type": "record_updated",
    "trigger.fields": "status",
    "trigger.changes.0.field": "status",
    "trigger.changes.0.from_op": "eq",
    "trigger.changes.0.from_value": "",
    "trigger.changes.0.to_op": "eq",
    "trigger.changes.0.to_value": "checked_out",
    "cond.0.join": "all",
    "cond.0-0.field": "adults",
    "cond.0-0.op": "gte",
    "cond.0-0.value": "1",
    "action.0.type": "create_task",
    "action.0.subject.en": "Follow up {{ guest.full_name }}",
    "action.0.due_in_hours": "24",
}


@pytest.fixture
def admin(make_user, alpha):
    return client_for(make_user("tenant_admin"), alpha)


def _reservation():
    today = timezone.localdate()
    hotel = property_create(
        code="LIS", name="Alpha Lisbon", country="PT", currency="EUR", actor=SYSTEM
    )
    guest = guest_create(given_name="Ana", surname="Lima", actor=SYSTEM)
    return reservation_create(
        property=hotel,
        guest=guest,
        confirmation_number="LIS-7",
        arrival=today,
        departure=today + timedelta(days=2),
        total_amount=Decimal("300"),
        currency="EUR",
        actor=SYSTEM,
    )


def test_the_builder_creates_a_workflow_with_the_apis_definition(admin):
    created = admin.post("/settings/workflows/new/", CHECKOUT_FORM)

    workflow = Workflow.objects.get(key="checkout_follow_up")
    assert created.status_code == 302
    assert created["Location"] == f"/settings/workflows/{workflow.pk}/"
    version = workflow.current_version
    assert version.trigger == {
        "type": "record_updated",
        "fields": ["status"],
        "changes": [{"field": "status", "to": {"op": "eq", "value": "checked_out"}}],
    }
    assert version.conditions == {"all": [{"field": "adults", "op": "gte", "value": 1}]}
    assert version.actions == [
        {
            "type": "create_task",
            "subject": {"en": "Follow up {{ guest.full_name }}"},
            "body": "",
            "due_in_hours": 24,
        }
    ]
    assert workflow.enabled and workflow.name_zh_hans == "退房跟进"


def test_the_list_shows_name_object_trigger_state_and_version(admin, make_user, alpha):
    workflow_create(
        key="welcome",
        name={"en": "Welcome", "zh-hans": "欢迎"},
        object_api_name="guest",
        trigger={"type": "record_created"},
        actions=[{"type": "add_tag", "tag": "new"}],
        enabled=False,
        actor=SYSTEM,
    )
    page = admin.get("/settings/workflows/").content.decode()

    row = page.split('id="workflow-welcome"', 1)[1].split("</tr>", 1)[0]
    assert "Welcome" in row and "A record is created" in row and "Off" in row
    assert '<td class="num">1</td>' in row
    assert (
        client_for(make_user("front_office"), alpha).get("/settings/workflows/").status_code == 403
    )


def test_service_errors_are_shown_next_to_the_input_they_name(admin):
    bad = {**CHECKOUT_FORM, "cond.0-0.field": "no_such_field", "action.0.due_in_hours": "soon"}
    response = admin.post("/settings/workflows/new/", bad)

    assert response.status_code == 400
    page = response.content.decode()
    error = page.split('id="wf_cond_0-0_field-error"', 1)[1].split("</p>", 1)[0]
    assert "no_such_field" in error
    assert not Workflow.objects.filter(key="checkout_follow_up").exists()
    # The values typed are kept.
    assert 'value="no_such_field"' in page

    fixed = {**CHECKOUT_FORM, "action.0.due_in_hours": "soon"}
    page = admin.post("/settings/workflows/new/", fixed).content.decode()
    error = page.split('id="wf_action_0_due_in_hours-error"', 1)[1].split("</p>", 1)[0]
    assert "Give whole hours" in error

    no_json = {**CHECKOUT_FORM, "action.0.type": "webhook", "action.0.event_type": "workflow.x"}
    no_json["action.0.data"] = "{not json"
    page = admin.post("/settings/workflows/new/", no_json).content.decode()
    assert "data is not valid JSON." in page.split('id="wf_action_0_data-error"', 1)[1]


def test_rows_are_added_and_removed_without_saving(admin):
    added = admin.post(
        "/settings/workflows/new/", {**CHECKOUT_FORM, "edit": "add_group:0"}, HTTP_HX_REQUEST="true"
    )
    page = added.content.decode()
    assert added.status_code == 200
    assert 'name="cond.0-1.join"' in page and 'name="cond.0-1-0.field"' in page
    assert not Workflow.objects.exists()

    removed = admin.post("/settings/workflows/new/", {**CHECKOUT_FORM, "edit": "remove:0-0"})
    assert 'name="cond.0-0.field"' not in removed.content.decode()
    action_added = admin.post("/settings/workflows/new/", {**CHECKOUT_FORM, "edit": "add_action"})
    assert 'name="action.1.type"' in action_added.content.decode()


def test_editing_writes_a_new_version_and_shows_the_history(admin):
    admin.post("/settings/workflows/new/", CHECKOUT_FORM)
    workflow = Workflow.objects.get(key="checkout_follow_up")
    form = admin.get(f"/settings/workflows/{workflow.pk}/edit/").content.decode()
    assert 'value="checked_out"' in form and 'value="Follow up {{ guest.full_name }}"' not in form
    assert "Follow up {{ guest.full_name }}</textarea>" in form

    changed = {**CHECKOUT_FORM, "action.0.due_in_hours": "48"}
    saved = admin.post(f"/settings/workflows/{workflow.pk}/edit/", changed, follow=True)

    workflow.refresh_from_db()
    assert workflow.current_version.number == 2
    assert workflow.current_version.actions[0]["due_in_hours"] == 48
    page = saved.content.decode()
    assert "Workflow saved as version 2." in page
    assert 'id="version-2"' in page and 'id="version-1"' in page


def test_a_dry_run_shows_the_would_be_task_and_writes_nothing(admin):
    admin.post("/settings/workflows/new/", CHECKOUT_FORM)
    workflow = Workflow.objects.get(key="checkout_follow_up")
    reservation = _reservation()
    tasks_before = Activity.objects.filter(kind="task").count()

    response = admin.post(
        f"/settings/workflows/{workflow.pk}/", {"action": "dry_run", "record_id": reservation.pk}
    )

    page = response.content.decode()
    report = page.split('id="dry-run-report"', 1)[1].split("</section>", 1)[0]
    assert "Create a task" in report and "Follow up Ana Lima" in report
    assert "The conditions are met." in report
    assert Activity.objects.filter(kind="task").count() == tasks_before
    assert WorkflowRun.objects.count() == 0

    missing = admin.post(
        f"/settings/workflows/{workflow.pk}/", {"action": "dry_run", "record_id": "999999"}
    )
    assert missing.status_code == 400
    assert (
        "No reservation with id 999999."
        in missing.content.decode().split('id="wf_record_id-error"')[1]
    )


def test_run_now_queues_a_run_that_the_log_lists(admin):
    admin.post("/settings/workflows/new/", CHECKOUT_FORM)
    workflow = Workflow.objects.get(key="checkout_follow_up")
    reservation = _reservation()

    started = admin.post(
        f"/settings/workflows/{workflow.pk}/",
        {"action": "run", "record_id": reservation.pk},
        follow=True,
    )

    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.record_id == str(reservation.pk) and run.trigger_type == "manual"
    page = started.content.decode()
    assert "Run started: 1 run queued." in page and f'id="run-{run.pk}"' in page
    empty = admin.post(f"/settings/workflows/{workflow.pk}/", {"action": "run", "record_id": ""})
    assert empty.status_code == 400 and "Choose a record." in empty.content.decode()


def test_the_run_log_shows_each_steps_outcome_and_error(admin):
    from metadata.models import WorkflowRunStep

    admin.post("/settings/workflows/new/", CHECKOUT_FORM)
    workflow = Workflow.objects.get(key="checkout_follow_up")
    run = WorkflowRun.objects.create(
        workflow=workflow,
        version=workflow.current_version,
        object_api_name="reservation",
        record_id="5",
        occurrence_key="manual:x",
        trigger_type="manual",
        status="failed",
        error="The record is gone.",
    )
    WorkflowRunStep.objects.create(
        run=run, index=-1, action="conditions", status="succeeded", detail={"met": True}
    )
    WorkflowRunStep.objects.create(
        run=run, index=0, action="create_task", status="failed", error="The record is gone."
    )

    page = admin.get(f"/settings/workflows/{workflow.pk}/?status=failed").content.decode()

    block = page.split(f'id="run-{run.pk}"', 1)[1].split("</article>", 1)[0]
    assert "Failed" in block and "Conditions" in block and "Create a task" in block
    assert block.count("The record is gone.") == 2
    assert (
        f'id="run-{run.pk}"'
        not in admin.get(f"/settings/workflows/{workflow.pk}/?status=succeeded").content.decode()
    )


def test_hotel_templates_are_previewed_then_imported_switched_off(admin):
    preview = admin.post("/settings/workflows/", {"template": "vip_arrival", "mode": "preview"})
    assert "vip_arrival_task" in preview.content.decode().split('id="template-plan"')[1]
    assert not Workflow.objects.exists()

    imported = admin.post(
        "/settings/workflows/", {"template": "vip_arrival", "mode": "import"}, follow=True
    )

    workflow = Workflow.objects.get(key="vip_arrival_task")
    assert workflow.enabled is False and workflow.template == "vip_arrival"
    assert "1 workflows created or updated" in imported.content.decode()
    page = admin.get("/settings/workflows/").content.decode()
    for name in (
        "birthday_greeting",
        "complaint_escalation",
        "post_stay_survey",
        "pre_arrival",
        "win_back",
    ):
        assert f'id="template-{name}"' in page
    unknown = admin.post(
        "/settings/workflows/", {"template": "nope", "mode": "import"}, follow=True
    )
    assert "There is no workflow template &#x27;nope&#x27;" in unknown.content.decode()
