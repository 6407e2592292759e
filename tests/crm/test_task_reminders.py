"""Task reminders: at the reminder time the assignee gets one e-mail (a real local SMTP
server) in their language, with the due time in the group's zone and a link to the
record; completed tasks and future reminders send nothing; a second sweep sends nothing
more; a mail server that is away loses nothing (the next sweep sends it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Activity
from crm.services.activities import activity_create, task_complete
from crm.services.reminders import task_reminders_send
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.workflows.smtp import header, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        agent = get_user_model().objects.create_user(
            email="reminded@alpha.test", password="x-" * 8, language="zh-hans"
        )
        guest = make_guest(given_name="Rita", surname="Mora")
        yield {"agent": agent, "guest": guest}


def _task(world, subject: str, *, remind_in: timedelta, due_in: timedelta | None = None):
    now = timezone.now()
    return activity_create(
        object_api_name="guest",
        record_id=world["guest"].pk,
        kind="task",
        subject=subject,
        due_at=now + (due_in if due_in is not None else remind_in + timedelta(hours=1)),
        reminder_at=now + remind_in,
        assignee=world["agent"],
        actor=SYSTEM,
    )


def test_a_due_reminder_is_mailed_once_in_the_assignees_language(world, smtp):
    due = _task(world, "Call about the anniversary", remind_in=-timedelta(minutes=1))
    _task(world, "Later", remind_in=timedelta(hours=2))
    done = _task(world, "Already done", remind_in=-timedelta(minutes=5))
    task_complete(activity=done, actor=SYSTEM)

    assert task_reminders_send() == 1
    [mail] = smtp.messages
    assert mail["X-Envelope-To"] == "reminded@alpha.test"
    assert header(mail, "Subject") == "提醒：Call about the anniversary"
    body = text_of(mail)
    assert f"/guests/{world['guest'].pk}/" in body and "alpha.test" in body
    assert Activity.objects.get(pk=due.pk).reminder_sent_at is not None
    # Again: nothing more.
    assert task_reminders_send() == 0
    assert len(smtp.messages) == 1


def test_a_mail_server_that_is_away_loses_no_reminder(world, smtp, settings):
    task = _task(world, "Send the quote", remind_in=-timedelta(minutes=1))
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    assert task_reminders_send() == 0
    assert Activity.objects.get(pk=task.pk).reminder_sent_at is None
    settings.EMAIL_PORT = port
    assert task_reminders_send() == 1
    assert [header(m, "Subject") for m in smtp.messages] == ["提醒：Send the quote"]


def test_the_beat_task_sends_in_the_groups_schema(world, smtp, tenant_a):
    from crm.tasks import task_reminders

    _task(world, "Confirm the transfer", remind_in=-timedelta(minutes=1))
    assert task_reminders(tenant_a.schema_name) == {"sent": 1}
    assert task_reminders("no_such_schema") == {"skipped": "no such tenant"}
    assert len(smtp.messages) == 1
