"""Names are checked against the whole value: a name with a trailing newline passed a
``re.match`` with ``$`` and, once stored, broke the field designer page for good
(hole 13). Every kind of name refuses it, and nothing is stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from metadata.models import FieldDefinition, ModuleDefinition, ObjectDefinition, Workflow
from metadata.services.definitions import custom_field_create, object_definition_create
from metadata.services.modules import module_create
from metadata.services.workflows import workflow_create
from tenants import validators
from tenants.access.models import Role
from tenants.access.services import role_create
from tests.api.test_records_api import api
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

BAD_NAMES = ["name\n", "guest_note\n", "name\r\n", "\nname"]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_custom_field_names(tenant_a, bad):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            custom_field_create(
                object_api_name="guest", api_name=bad, label="X", type="text", actor=SYSTEM
            )
        assert info.value.error_dict["api_name"][0].code == "api_name"
        assert not FieldDefinition.objects.filter(api_name=bad).exists()


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_object_names(tenant_a, bad):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            object_definition_create(
                api_name=bad, label="X", label_plural="Xs", module="core", actor=SYSTEM
            )
        assert "api_name" in info.value.error_dict
        assert not ObjectDefinition.objects.filter(api_name=bad).exists()


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_module_keys(tenant_a, bad):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            module_create(key=bad, label="X", actor=SYSTEM)
        assert "key" in info.value.error_dict
        assert not ModuleDefinition.objects.filter(key=bad).exists()


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_workflow_keys(tenant_a, bad):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            workflow_create(
                key=bad,
                name="X",
                object_api_name="guest",
                trigger={"type": "record_created"},
                actions=[{"type": "add_tag", "tag": "x"}],
                actor=SYSTEM,
            )
        assert info.value.error_dict["key"][0].code == "key"
        assert not Workflow.objects.filter(key=bad).exists()


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_role_keys(tenant_a, bad):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            role_create(key=bad, name="X", actor=SYSTEM)
        assert "key" in info.value.error_dict
        assert not Role.objects.filter(key=bad).exists()


def test_tenant_slugs():
    # Surrounding white space is trimmed, as form inputs are: the slug kept has none.
    assert validators.validate_slug("lotus\n") == "lotus"
    for bad in ("lo\ntus", "lotus\nx", "lotus-\n"):
        with pytest.raises(ValidationError) as info:
            validators.validate_slug(bad)
        assert info.value.code == "invalid_slug"


def test_workflow_times_and_event_names(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            workflow_create(
                key="arrival_mail",
                name="X",
                object_api_name="reservation",
                trigger={"type": "date_relative", "field": "arrival", "at": "09:00\n"},
                actions=[{"type": "add_tag", "tag": "x"}],
                actor=SYSTEM,
            )
        assert "trigger.at" in info.value.error_dict
        with pytest.raises(ValidationError) as info:
            workflow_create(
                key="hook",
                name="X",
                object_api_name="guest",
                trigger={"type": "record_created"},
                actions=[{"type": "webhook", "event_type": "workflow.checked_out\n"}],
                actor=SYSTEM,
            )
        assert any("event_type" in key for key in info.value.error_dict)


def test_the_api_refuses_the_name_and_the_designer_page_keeps_working(tenant_a):
    response = api(tenant_a).post(
        "/api/v1/metadata/objects/guest/fields/",
        {"api_name": "points\n", "label": "Points", "type": "integer"},
        content_type="application/json",
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "api_name"
    assert tenant_client(tenant_a).get("/settings/objects/guest/fields/").status_code == 200
