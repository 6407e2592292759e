"""Each action: update a field, create a task, create a case, send an e-mail (template in
the recipient's language, safe variables, unsubscribe link and consent, delivered over
real SMTP), send an SMS through the local provider, tags, owners, wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Activity, Case, Guest, Reservation
from crm.services.cases import case_create
from crm.services.guests import guest_consent_record
from metadata.models import OutboxMessage, WorkflowRun
from metadata.services.definitions import custom_field_create
from metadata.workflows.engine import workflow_run_execute, workflow_run_manual
from metadata.workflows.messaging import LocalSmsProvider
from metadata.workflows.scheduler import waiting_runs_resume
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM
from tests.workflows.conftest import make_workflow, outbox, runs_of, staff
from tests.workflows.smtp import header, text_of

pytestmark = pytest.mark.django_db

EMAIL = {
    "type": "send_email",
    "purpose": "service",
    "subject": {
        "en": "Thank you, {{ guest.first_name }}",
        "zh-hans": "谢谢您，{{ guest.first_name }}",
    },
    "body": {
        "en": "Stay {{ record.confirmation_number }} at {{ hotel.name }} ended.",
        "zh-hans": "您在{{ hotel.name }}的住宿（{{ record.confirmation_number }}）已结束。",
    },
}


def run_now(workflow, record, commit):
    with commit():
        [run] = workflow_run_manual(workflow=workflow, record_ids=[record.pk], actor=SYSTEM)
    run.refresh_from_db()
    return run


def test_update_field_goes_through_the_owning_service(alpha, commit):
    custom_field_create(
        object_api_name="reservation",
        api_name="survey_sent",
        label="Survey",
        type="boolean",
        actor=SYSTEM,
    )
    workflow = make_workflow(
        "close",
        object_api_name="reservation",
        trigger={"type": "manual"},
        actions=[
            {"type": "update_field", "field": "custom.survey_sent", "value": True},
            {"type": "update_field", "field": "status", "value": "checked_out"},
        ],
    )
    reservation = make_reservation(property=make_property(), guest=make_guest())
    run = run_now(workflow, reservation, commit)
    # reserved -> checked_out is not an allowed transition: the service refuses, the run
    # log says why, and the first step stays done.
    assert run.status == "failed"
    assert "cannot go from reserved to checked_out" in run.error
    reservation.refresh_from_db()
    assert reservation.custom == {"survey_sent": True} and reservation.status == "reserved"
    with pytest.raises(ValidationError) as info:
        make_workflow(
            "bad",
            object_api_name="reservation",
            trigger={"type": "manual"},
            actions=[{"type": "update_field", "field": "status", "value": "gone"}],
        )
    assert list(info.value.error_dict) == ["actions[0].value"]


def test_create_task_for_the_least_busy_member_of_a_role(alpha, commit):
    busy, free = staff("busy@alpha.test", "front_office"), staff("free@alpha.test", "front_office")
    Activity.objects.create(
        kind="task",
        object_api_name="guest",
        record_id="1",
        subject="x",
        occurred_at=timezone.now(),
        assignee=busy,
    )
    workflow = make_workflow(
        "vip_task",
        object_api_name="reservation",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "create_task",
                "role": "front_office",
                "due_in_hours": 4,
                "subject": "VIP {{ guest.full_name }} ({{ record.nights }} nights)",
            }
        ],
    )
    reservation = make_reservation(
        property=make_property(), guest=make_guest(given_name="Mei", surname="Tan"), nights=3
    )
    run = run_now(workflow, reservation, commit)
    assert run.status == "succeeded"
    task = Activity.objects.get(pk=run.steps.get(index=0).detail["task_id"])
    assert (task.kind, task.subject, task.assignee) == ("task", "VIP Mei Tan (3 nights)", free)
    assert (task.object_api_name, task.record_id) == ("reservation", str(reservation.pk))
    assert timedelta(hours=3, minutes=59) < task.due_at - timezone.now() <= timedelta(hours=4)


def test_create_case_links_the_guest_and_reservation(alpha, commit):
    workflow = make_workflow(
        "low_score",
        object_api_name="reservation",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "create_case",
                "subject": "Follow up stay {{ record.confirmation_number }}",
                "kind": "complaint",
                "category": "service",
                "priority": "high",
                "deadline_in_hours": 24,
            }
        ],
    )
    reservation = make_reservation(property=make_property(), guest=make_guest())
    run = run_now(workflow, reservation, commit)
    case = Case.objects.get(pk=run.steps.get(index=0).detail["case_id"])
    assert case.subject == f"Follow up stay {reservation.confirmation_number}"
    assert (case.kind, case.category, case.priority, case.status) == (
        "complaint",
        "service",
        "high",
        "open",
    )
    assert (case.guest_id, case.reservation_id, case.property_id) == (
        reservation.guest_id,
        reservation.pk,
        reservation.property_id,
    )
    assert case.deadline > timezone.now() + timedelta(hours=23)


def test_email_in_the_guests_language_over_real_smtp(alpha, commit, smtp):
    workflow = make_workflow(
        "thanks", object_api_name="reservation", trigger={"type": "manual"}, actions=[EMAIL]
    )
    guest = make_guest(given_name="Li", language="zh-hans", emails=["li@example.com"])
    reservation = make_reservation(property=make_property(name="Harbour"), guest=guest)
    run = run_now(workflow, reservation, commit)
    assert run.status == "succeeded"
    [message] = outbox()
    assert (message.channel, message.recipient, message.language, message.status) == (
        "email",
        "li@example.com",
        "zh-hans",
        "sent",
    )
    assert message.subject == "谢谢您，Li" and message.run_id == run.pk
    [received] = smtp.messages
    assert received["X-Envelope-To"] == "li@example.com"
    assert header(received, "Subject") == "谢谢您，Li"
    assert received["Content-Language"] == "zh-hans"
    body = text_of(received)
    assert f"您在Harbour的住宿（{reservation.confirmation_number}）已结束。" in body
    assert "/unsubscribe/" in body and received["List-Unsubscribe"].strip().startswith(
        "<http://alpha.test/"
    )


def test_language_falls_back_to_the_tenant_default(alpha, commit):
    workflow = make_workflow(
        "thanks", object_api_name="reservation", trigger={"type": "manual"}, actions=[EMAIL]
    )
    guest = make_guest(given_name="Jo", language="de", emails=["jo@example.com"])
    run_now(workflow, make_reservation(property=make_property(), guest=guest), commit)
    [message] = outbox()
    assert message.language == "en" and message.subject == "Thank you, Jo"


def test_unsubscribe_link_records_the_opt_out_and_later_sends_skip(alpha, commit, client):
    workflow = make_workflow(
        "thanks", object_api_name="reservation", trigger={"type": "manual"}, actions=[EMAIL]
    )
    guest = make_guest(emails=["out@example.com"])
    reservation = make_reservation(property=make_property(), guest=guest)
    run_now(workflow, reservation, commit)
    [message] = outbox()
    link = message.headers["List-Unsubscribe"].strip("<>").replace("http://alpha.test", "")
    page = client.get(link, HTTP_HOST="alpha.test")
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert guest.consents.count() == 0  # a GET (a mail scanner) changes nothing
    done = client.post(link, HTTP_HOST="alpha.test")
    assert done.status_code == 200 and b"unsubscribed" in done.content
    consent = guest.consents.get()
    assert (consent.channel, consent.purpose, consent.opted_in) == ("email", "service", False)
    run = run_now(workflow, reservation, commit)
    step = run.steps.get(index=0)
    assert step.status == "skipped" and step.detail["reason"] == "consent"
    assert len(outbox()) == 1
    forged = client.get(link[:-3] + "abc/", HTTP_HOST="alpha.test")
    assert forged.status_code == 404


def test_marketing_needs_the_opt_in(alpha, commit):
    workflow = make_workflow(
        "promo",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "send_email",
                "purpose": "marketing",
                "subject": "Offer",
                "body": "Hi {{ guest.first_name }}",
            }
        ],
    )
    guest = make_guest(given_name="Sam", emails=["sam@example.com"])
    assert run_now(workflow, guest, commit).steps.get(index=0).status == "skipped"
    guest_consent_record(
        guest=guest, channel="email", purpose="marketing", opted_in=True, actor=SYSTEM
    )
    assert run_now(workflow, guest, commit).steps.get(index=0).status == "succeeded"
    [message] = outbox()
    assert message.body.startswith(
        "Hi Sam\n\nTo stop receiving these messages: http://alpha.test/unsubscribe/"
    )


def test_templates_substitute_plain_values_only(alpha, commit):
    workflow = make_workflow(
        "safe",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "send_email",
                "subject": "x",
                "body": "[{{ guest.first_name }}][{{ guest.__class__ }}][{{ guest.custom }}]",
            }
        ],
    )
    guest = make_guest(given_name="{{ unsubscribe_url }}{% debug %}", emails=["t@example.com"])
    run_now(workflow, guest, commit)
    [message] = outbox()
    # The name is data: shown as written, never evaluated; no Python attribute reached.
    assert message.body.startswith("[{{ unsubscribe_url }}{% debug %}][][]")
    for bad, code in (
        ("{% if guest %}x{% endif %}", "template_tag"),
        ("{{ settings.SECRET_KEY }}", "variable"),
    ):
        with pytest.raises(ValidationError) as info:
            make_workflow(
                "bad",
                trigger={"type": "manual"},
                actions=[{"type": "send_email", "subject": "x", "body": bad}],
            )
        assert info.value.error_dict["actions[0].body"][0].code == code


def test_sms_through_the_local_provider(alpha, commit):
    LocalSmsProvider.sent.clear()
    workflow = make_workflow(
        "sms",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "send_sms",
                "body": {
                    "en": "Hello {{ guest.first_name }}",
                    "ja": "こんにちは {{ guest.first_name }}",
                },
            }
        ],
    )
    guest = make_guest(given_name="Ken", language="ja", phones=["+81312345678"])
    nophone = make_guest()
    run_now(workflow, guest, commit)
    [message] = outbox()
    assert (
        message.channel,
        message.recipient,
        message.language,
        message.status,
        message.provider,
    ) == ("sms", "+81312345678", "ja", "sent", "local")
    assert LocalSmsProvider.sent[0]["to"] == "+81312345678"
    assert LocalSmsProvider.sent[0]["body"].startswith("こんにちは Ken ")
    assert run_now(workflow, nophone, commit).steps.get(index=0).status == "skipped"


def test_add_and_remove_tags_on_the_reservations_guest(alpha, commit):
    guest = make_guest(tags=["old"])
    workflow = make_workflow(
        "tags",
        object_api_name="reservation",
        trigger={"type": "manual"},
        actions=[{"type": "add_tag", "tag": "Returning"}, {"type": "remove_tag", "tag": "old"}],
    )
    run_now(workflow, make_reservation(property=make_property(), guest=guest), commit)
    assert Guest.objects.get(pk=guest.pk).tags == ["returning"]


def test_assign_owner_round_robin_and_by_field(alpha, commit):
    first, second = (
        staff("gm1@alpha.test", "general_manager"),
        staff("gm2@alpha.test", "general_manager"),
    )
    rr = make_workflow(
        "rr",
        object_api_name="case",
        trigger={"type": "manual"},
        actions=[{"type": "assign_owner", "strategy": "round_robin", "role": "general_manager"}],
    )
    cases = [case_create(subject=f"c{i}", actor=SYSTEM) for i in range(3)]
    for case in cases:
        run_now(rr, case, commit)
    assert [Case.objects.get(pk=c.pk).owner for c in cases] == [first, second, first]
    by_field = make_workflow(
        "bf",
        object_api_name="case",
        trigger={"type": "manual"},
        actions=[
            {
                "type": "assign_owner",
                "strategy": "by_field",
                "field": "category",
                "map": {"billing": "gm2@alpha.test"},
                "default": "gm1@alpha.test",
            }
        ],
    )
    billing = case_create(subject="Wrong bill", category="billing", actor=SYSTEM)
    room = case_create(subject="Cold room", category="room", actor=SYSTEM)
    run_now(by_field, billing, commit)
    run_now(by_field, room, commit)
    assert (Case.objects.get(pk=billing.pk).owner, Case.objects.get(pk=room.pk).owner) == (
        second,
        first,
    )
    with pytest.raises(ValidationError) as info:
        make_workflow(
            "nobody",
            object_api_name="case",
            trigger={"type": "manual"},
            actions=[{"type": "assign_owner", "users": ["ghost@alpha.test"]}],
        )
    assert "ghost@alpha.test" in info.value.error_dict["actions[0].users"][0].message


def test_wait_pauses_the_run_until_due(alpha, commit):
    workflow = make_workflow(
        "later",
        trigger={"type": "manual"},
        actions=[
            {"type": "add_tag", "tag": "first"},
            {"type": "wait", "hours": 2},
            {"type": "add_tag", "tag": "second"},
        ],
    )
    guest = make_guest()
    run = run_now(workflow, guest, commit)
    assert run.status == "waiting" and run.next_step == 2
    assert timedelta(hours=1, minutes=59) < run.resume_at - timezone.now() <= timedelta(hours=2)
    assert Guest.objects.get(pk=guest.pk).tags == ["first"]
    assert workflow_run_execute(run_id=run.pk) is None  # not due yet
    with commit():
        assert waiting_runs_resume() == 0
        WorkflowRun.objects.filter(pk=run.pk).update(
            resume_at=timezone.now() - timedelta(seconds=1)
        )
        assert waiting_runs_resume() == 1
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert Guest.objects.get(pk=guest.pk).tags == ["first", "second"]
    assert [s.status for s in run.steps.order_by("pk")] == [
        "succeeded",
        "succeeded",
        "waiting",
        "succeeded",
    ]
    assert Reservation.objects.count() == 0 and OutboxMessage.objects.count() == 0
    assert runs_of(workflow) == [run]
