"""One hotel group's surveys, answers and timers never show in another's, the sweep
reaches every active group, and a guest merged into another takes its invitations and
answers along."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from crm.service import tasks
from crm.service.models import Invitation, Response
from crm.service.services.surveys import (
    invitation_create,
    link_path,
    survey_answer,
    survey_create,
)
from crm.services.dedupe import guest_merge
from tests.conftest import tenant_client
from tests.crm.factories import make_guest, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db
QUESTIONS = [{"key": "nps", "kind": "nps", "text": "Recommend?"}]


def test_a_groups_link_and_answers_do_not_open_in_another(hotels, tenant_b):
    survey = survey_create(key="s", title="S", questions=QUESTIONS, actor=SYSTEM)
    guest = make_guest()
    stay = make_reservation(property=hotels["paris"], guest=guest)
    invitation = invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
    answer = survey_answer(invitation=invitation, answers={"nps": 9})
    path = link_path(invitation)

    assert Client(HTTP_HOST="alpha.test").get(path).status_code == 200
    assert Client(HTTP_HOST=f"{tenant_b.slug}.test").get(path).status_code == 404
    bravo = tenant_client(tenant_b)
    assert bravo.get("/api/v1/surveys/").json()["results"] == []
    assert bravo.get("/api/v1/survey-responses/").json()["results"] == []
    assert bravo.get(f"/api/v1/survey-responses/{answer.pk}/").status_code == 404
    with tenant_context(tenant_b):
        assert Response.objects.count() == 0


def test_the_sweep_fans_out_one_message_per_active_group(hotels, tenant_b, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(tasks.sla_sweep, "delay", lambda schema: sent.append(schema))
    from tenants.models import Tenant

    assert tasks.sla_sweep_everywhere.run() == len(sent)
    assert {Tenant.objects.get(slug="alpha").schema_name, tenant_b.schema_name} <= set(sent)
    assert len(sent) == len(set(sent))


def test_a_merged_guest_takes_its_invitations_and_answers_along(hotels):
    survey = survey_create(key="m", title="M", questions=QUESTIONS, actor=SYSTEM)
    survivor, duplicate = make_guest(surname="Keep"), make_guest(surname="Fold")
    stay = make_reservation(property=hotels["paris"], guest=duplicate)
    invitation = invitation_create(survey=survey, guest=duplicate, reservation=stay, actor=SYSTEM)
    survey_answer(invitation=invitation, answers={"nps": 10})

    guest_merge(survivor=survivor, duplicate=duplicate, actor=SYSTEM)
    with connection.cursor() as cursor:  # the keys are checked now, as at the commit
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert Invitation.objects.get(pk=invitation.pk).guest_id == survivor.pk
    assert Response.objects.get(invitation=invitation).guest_id == survivor.pk
