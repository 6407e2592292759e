"""Activities against any record and one timeline per record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.selectors.timeline import tasks_open_for, timeline_for
from crm.services.activities import activity_create, task_complete
from crm.services.companies import company_create
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, NotFound
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_timeline_shows_every_kind_newest_first(tenant_a):
    with tenant_context(tenant_a):
        from tenants.users.models import User

        user = User.objects.get(email="admin@alpha.test")
        guest = make_guest()
        other = make_guest()
        now = timezone.now()
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="note",
            body="Prefers quiet rooms",
            occurred_at=now - timedelta(days=3),
            actor=SYSTEM,
        )
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="call",
            direction="inbound",
            duration_seconds=240,
            occurred_at=now - timedelta(days=2),
            actor=SYSTEM,
        )
        activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="email",
            direction="outbound",
            subject="Welcome",
            occurred_at=now - timedelta(days=1),
            actor=SYSTEM,
        )
        task = activity_create(
            object_api_name="guest",
            record_id=guest.pk,
            kind="task",
            subject="Call back",
            due_at=now + timedelta(days=1),
            reminder_at=now + timedelta(hours=20),
            assignee=user,
            actor=Principal.of(user),
        )
        activity_create(
            object_api_name="guest", record_id=other.pk, kind="note", body="x", actor=SYSTEM
        )

        kinds = list(
            timeline_for(object_api_name="guest", record_id=guest.pk).values_list("kind", flat=True)
        )
        assert kinds == ["task", "email", "call", "note"]
        assert list(tasks_open_for(assignee=user)) == [task]
        task_complete(activity=task, actor=Principal.of(user))
        assert list(tasks_open_for(assignee=user)) == []


def test_activities_on_other_objects(tenant_a):
    with tenant_context(tenant_a):
        company = company_create(name="Globex", actor=SYSTEM)
        res = make_reservation(property=make_property(), guest=make_guest())
        activity_create(
            object_api_name="company", record_id=company.pk, kind="note", body="RFP", actor=SYSTEM
        )
        activity_create(
            object_api_name="reservation", record_id=res.pk, kind="note", body="Late", actor=SYSTEM
        )
        assert timeline_for(object_api_name="company", record_id=company.pk).get().body == "RFP"
        assert timeline_for(object_api_name="reservation", record_id=res.pk).get().body == "Late"


def test_bad_activities_refused(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest()
        with pytest.raises(ValidationError):
            activity_create(
                object_api_name="guest",
                record_id=guest.pk,
                kind="note",
                due_at=timezone.now(),
                actor=SYSTEM,
            )
        with pytest.raises(ValidationError):
            activity_create(object_api_name="guest", record_id=guest.pk, kind="task", actor=SYSTEM)
        with pytest.raises(NotFound):
            activity_create(object_api_name="guest", record_id=999999, kind="note", actor=SYSTEM)
        with pytest.raises(ApplicationError):
            activity_create(object_api_name="spaceship", record_id=1, kind="note", actor=SYSTEM)
