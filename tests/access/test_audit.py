"""Every export and every sensitive read leaves an audit row (who, what, when, from
where); administrators browse and filter the log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Guest
from tenants.access import policy
from tenants.access.models import AuditEvent
from tenants.access.principal import Principal
from tenants.access.selectors import audit_events
from tenants.access.services import audit_export_log, audit_log
from tests.access.conftest import client_for

pytestmark = pytest.mark.django_db


def test_audit_export_log_records_the_export(make_user):
    marketer = make_user("marketing")

    event = audit_export_log(
        actor=Principal.of(marketer),
        object_api_name="guest",
        record_count=120,
        fields=["surname", "email"],
        export_format="xlsx",
        filters={"segment": 4},
    )

    assert event.action == "export"
    assert (event.actor, event.actor_email) == (marketer, marketer.email)
    assert event.record_count == 120
    assert event.fields == ["email", "surname"]
    assert event.details == {"format": "xlsx", "filters": {"segment": 4}}


def test_an_export_that_is_not_allowed_is_refused_and_not_logged(make_user):
    clerk = make_user("front_office")

    with pytest.raises(policy.AccessDenied):
        audit_export_log(
            actor=Principal.of(clerk), object_api_name="guest", record_count=1, fields=["surname"]
        )

    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.urls("tests.access.urls")
def test_export_through_the_api_is_in_the_audit_log_with_its_origin(make_user, alpha):
    Guest.objects.create(given_name="Ana", surname="Lima", email="ana@example.com")
    marketer = make_user("marketing")
    client = client_for(marketer, alpha)

    response = client.get(
        "/api/v1/test-records/guest/", {"export": "1"}, HTTP_USER_AGENT="ExportBot/1.0"
    )

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export")
    assert event.actor == marketer
    assert event.object_api_name == "guest"
    assert event.record_count == Guest.objects.count()
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "ExportBot/1.0"
    assert "identity_number" not in event.fields


@pytest.mark.urls("tests.access.urls")
def test_sensitive_reads_through_the_api_are_logged_per_list(make_user, alpha):
    first = Guest.objects.create(given_name="A", surname="One", custom={"identity_number": "1"})
    Guest.objects.create(given_name="B", surname="Two")
    admin = make_user("tenant_admin")

    client_for(admin, alpha).get("/api/v1/test-records/guest/")

    event = AuditEvent.objects.get(action="sensitive_read")
    assert event.fields == ["identity_number"]
    assert event.details["record_ids"] == [str(first.pk)]
    assert event.record_count == 1


def test_selector_filters(make_user):
    one = make_user("tenant_admin")
    two = make_user("tenant_admin")
    now = timezone.now()
    audit_log(action="export", actor=one, object_api_name="guest", record_count=1)
    audit_log(action="export", actor=two, object_api_name="company", record_count=1)
    old = audit_log(action="sensitive_read", actor=one, object_api_name="guest", record_id="9")
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=now - timedelta(days=10))

    assert audit_events(actor_id=one.pk).count() == 2
    assert audit_events(action="export").count() == 2
    assert audit_events(object_api_name="guest").count() == 2
    assert list(audit_events(record_id="9")) == [old]
    assert audit_events(since=now - timedelta(days=1), actor_id=one.pk).count() == 1
    assert list(audit_events(until=now - timedelta(days=1))) == [old]


def test_admins_browse_the_log_over_the_api_and_others_cannot(make_user, alpha):
    admin = make_user("tenant_admin")
    manager = make_user("general_manager")
    audit_log(action="export", actor=manager, object_api_name="guest", record_count=3)
    audit_log(action="export", actor=manager, object_api_name="company", record_count=2)

    client = client_for(admin, alpha)
    body = client.get("/api/v1/access/audit/", {"object": "guest", "action": "export"}).json()
    assert [(e["actor"], e["object_api_name"], e["record_count"]) for e in body["results"]] == [
        (manager.email, "guest", 3)
    ]
    bad = client.get("/api/v1/access/audit/", {"action": "nonsense"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "action"

    refused = client_for(manager, alpha).get("/api/v1/access/audit/")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == (
        "Your roles do not allow you to view Audit event records."
    )
