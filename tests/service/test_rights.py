"""The module's rights as seeded for the roles (migration service.0002): service agents
read targets and surveys and invite guests, managers keep targets, marketing keeps
surveys, front office reads answers, and the policy refuses the rest."""

from __future__ import annotations

import pytest

from crm.service.selectors import responses_list, service_levels_list, surveys_list
from crm.service.services.levels import service_level_create
from crm.service.services.surveys import survey_create
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal

pytestmark = pytest.mark.django_db
QUESTIONS = [{"key": "nps", "kind": "nps", "text": "Recommend?"}]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("service_agent", {"level": (True, False), "survey": (True, False), "invite": True}),
        ("general_manager", {"level": (True, True), "survey": (True, True), "invite": True}),
        ("marketing", {"level": (False, False), "survey": (True, True), "invite": True}),
        ("front_office", {"level": (False, False), "survey": (False, False), "invite": False}),
        ("read_only", {"level": (True, False), "survey": (True, False), "invite": False}),
        ("tenant_admin", {"level": (True, True), "survey": (True, True), "invite": True}),
    ],
)
def test_seeded_roles(hotels, make_user, role, expected):
    actor = Principal.of(make_user(role))
    assert (actor.can("service_level", "view"), actor.can("service_level", "create")) == expected[
        "level"
    ]
    assert (actor.can("survey", "view"), actor.can("survey", "create")) == expected["survey"]
    assert actor.can("survey_response", "create") is expected["invite"]
    if expected["level"][1]:
        service_level_create(
            priority="low", first_response_minutes=5, resolution_minutes=50, actor=actor
        )
    else:
        with pytest.raises(AccessDenied):
            service_level_create(
                priority="low", first_response_minutes=5, resolution_minutes=50, actor=actor
            )
    if expected["survey"][1]:
        survey_create(key="r", title="R", questions=QUESTIONS, actor=actor)
    else:
        with pytest.raises(AccessDenied):
            survey_create(key="r", title="R", questions=QUESTIONS, actor=actor)
    if expected["level"][0]:
        assert service_levels_list(actor=actor).count() >= 1
    else:
        with pytest.raises(AccessDenied):
            service_levels_list(actor=actor)
    if expected["survey"][0]:
        surveys_list(actor=actor)
    else:
        with pytest.raises(AccessDenied):
            surveys_list(actor=actor)


def test_front_office_reads_answers_but_sales_does_not(hotels, make_user):
    assert responses_list(actor=Principal.of(make_user("front_office"))).count() == 0
    with pytest.raises(AccessDenied):
        responses_list(actor=Principal.of(make_user("sales")))
