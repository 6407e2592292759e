"""Guest profile services: contact data, identity document at rest, consents,
external ids, custom values and the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import Guest, GuestEmail, GuestPhone, RecordChange
from crm.selectors.guests import guest_consents_current, guests_list
from crm.services.guests import (
    guest_consent_record,
    guest_email_add,
    guest_email_remove,
    guest_email_set_primary,
    guest_external_id_add,
    guest_phone_add,
    guest_preference_set,
    guest_update,
)
from tenants.access.principal import Principal
from tenants.errors import Conflict
from tests.crm.factories import make_guest, make_property
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_identity_number_is_not_readable_in_the_table(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(
            id_document_type="passport",
            id_document_number="X1234567Q",
            id_document_expiry=date(2031, 4, 30),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id_document_number, id_document_expiry FROM crm_guest WHERE id = %s",
                [guest.pk],
            )
            raw_number, raw_expiry = cursor.fetchone()
            cursor.execute("SELECT crm_guest::text FROM crm_guest WHERE id = %s", [guest.pk])
            whole_row = cursor.fetchone()[0]
        assert "X1234567Q" not in raw_number and raw_number.startswith("fernet:")
        assert "2031" not in raw_expiry
        assert "X1234567Q" not in whole_row and "2031-04-30" not in whole_row
        loaded = Guest.objects.get(pk=guest.pk)
        assert loaded.id_document_number == "X1234567Q"
        assert loaded.id_document_expiry == date(2031, 4, 30)
        assert loaded.id_document_number_masked == "•••••567Q"
        # The audit trail says it changed without keeping it.
        trail = RecordChange.objects.get(
            object_api_name="guest", record_id=str(guest.pk), action="create"
        )
        assert trail.new["id_document_number"] == "[encrypted]"
        assert trail.new["id_document_expiry"] == "[encrypted]"


def test_same_number_encrypts_differently_each_time(tenant_a):
    with tenant_context(tenant_a):
        a = make_guest(id_document_type="passport", id_document_number="SAME1")
        b = make_guest(id_document_type="passport", id_document_number="SAME1")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id_document_number FROM crm_guest WHERE id IN (%s, %s)", [a.pk, b.pk]
            )
            tokens = {row[0] for row in cursor.fetchall()}
        assert len(tokens) == 2


def test_emails_and_phones_one_primary_each_and_e164(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(
            nationality="PT",
            emails=["Ana@Example.COM", "ana.work@example.com"],
            phones=["912 345 678", "+44 20 7946 0958"],
        )
        assert guest.email == "Ana@example.com"
        assert list(guest.phones.values_list("number", "is_primary")) == [
            ("+351912345678", True),
            ("+442079460958", False),
        ]
        work = GuestEmail.objects.get(guest=guest, email="ana.work@example.com")
        guest_email_set_primary(guest_email=work, actor=SYSTEM)
        guest.refresh_from_db()
        assert guest.email == "ana.work@example.com"
        assert guest.emails.filter(is_primary=True).count() == 1
        guest_email_remove(guest_email=GuestEmail.objects.get(pk=work.pk), actor=SYSTEM)
        guest.refresh_from_db()
        assert guest.email == "Ana@example.com"
        assert guest.emails.get().is_primary is True

        guest_phone_add(guest=guest, number="+1 415 555 2671", primary=True, actor=SYSTEM)
        guest.refresh_from_db()
        assert guest.phone == "+14155552671"
        assert GuestPhone.objects.filter(guest=guest, is_primary=True).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"emails": ["not-an-address"]}, "emails"),
        ({"phones": ["12"]}, "phones"),
        ({"nationality": "XX"}, "nationality"),
        ({"birth_date": date(2999, 1, 1)}, "birth_date"),
        ({"gender": "robot"}, "gender"),
        ({"customer_type": "alien"}, "customer_type"),
        ({"id_document_number": "123"}, "id_document_type"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        # No such custom field on this tenant: refused, keyed by the field's name.
        ({"custom": {"loyalty_tier": "gold"}}, "loyalty_tier"),
    ],
)
def test_bad_profile_data_is_refused_with_the_field(tenant_a, kwargs, field):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as exc:
            make_guest(**kwargs)
        assert field in exc.value.message_dict
        assert not Guest.objects.filter(surname__startswith="Silva", nationality="XX").exists()


def test_duplicate_email_on_profile_refused(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest(emails=["one@example.com"])
        with pytest.raises(ValidationError):
            guest_email_add(guest=guest, email="ONE@example.com", actor=SYSTEM)


def test_external_id_maps_to_one_profile_only(tenant_a):
    with tenant_context(tenant_a):
        prop = make_property()
        first, second = make_guest(), make_guest()
        guest_external_id_add(
            guest=first, source="opera", property=prop, external_id="884", actor=SYSTEM
        )
        # Same id from another property or system is another identity.
        guest_external_id_add(guest=second, source="opera", external_id="884", actor=SYSTEM)
        guest_external_id_add(
            guest=second, source="synxis", property=prop, external_id="884", actor=SYSTEM
        )
        with pytest.raises(Conflict):
            guest_external_id_add(
                guest=second, source="OPERA", property=prop, external_id="884", actor=SYSTEM
            )
        assert first.external_ids.count() == 1 and second.external_ids.count() == 2


def test_consents_keep_history_and_expose_the_latest(tenant_a):
    with tenant_context(tenant_a):
        guest = make_guest()
        guest_consent_record(
            guest=guest,
            channel="email",
            purpose="marketing",
            opted_in=True,
            source="web form",
            actor=SYSTEM,
        )
        guest_consent_record(
            guest=guest,
            channel="email",
            purpose="marketing",
            opted_in=False,
            source="unsubscribe link",
            actor=SYSTEM,
        )
        guest_consent_record(
            guest=guest, channel="sms", purpose="service", opted_in=True, actor=SYSTEM
        )
        current = guest_consents_current(guest=guest)
        assert current[("email", "marketing")].opted_in is False
        assert current[("email", "marketing")].source == "unsubscribe link"
        assert current[("sms", "service")].opted_in is True
        assert guest.consents.count() == 3
        with pytest.raises(ValidationError):
            guest_consent_record(
                guest=guest, channel="pigeon", purpose="marketing", opted_in=True, actor=SYSTEM
            )


def test_preferences_global_or_per_property(tenant_a):
    with tenant_context(tenant_a):
        guest, prop = make_guest(), make_property()
        guest_preference_set(guest=guest, group="pillow", code="foam", actor=SYSTEM)
        guest_preference_set(guest=guest, group="pillow", code="foam", actor=SYSTEM)  # idempotent
        guest_preference_set(guest=guest, group="floor", code="high", property=prop, actor=SYSTEM)
        assert sorted(guest.preferences.values_list("group", "code", "property_id")) == [
            ("FLOOR", "HIGH", prop.pk),
            ("PILLOW", "FOAM", None),
        ]


def test_update_writes_one_audit_row_per_changed_field(tenant_a):
    with tenant_context(tenant_a):
        from tenants.users.models import User

        user = User.objects.get(email="admin@alpha.test")
        guest = make_guest(given_name="Ana", vip_level=0, tags=["golf"])
        guest_update(
            guest=guest,
            given_name="Anna",
            vip_level=3,
            tags=["Golf", "spa "],
            language="pt",
            actor=Principal.of(user),
        )
        rows = RecordChange.objects.filter(
            object_api_name="guest", record_id=str(guest.pk), action="update"
        ).order_by("field")
        assert [(r.field, r.old, r.new, r.user_id) for r in rows] == [
            ("given_name", "Ana", "Anna", user.pk),
            ("language", "", "pt", user.pk),
            ("tags", ["golf"], ["golf", "spa"], user.pk),
            ("vip_level", 0, 3, user.pk),
        ]


def test_list_selector_searches_and_masks(tenant_a):
    with tenant_context(tenant_a):
        make_guest(surname="Quintela", id_document_type="passport", id_document_number="AB998877")
        found = list(guests_list(query="quintela"))
        assert len(found) == 1
        assert found[0].id_document_number_masked.endswith("8877")
        assert "AB99" not in found[0].id_document_number_masked
