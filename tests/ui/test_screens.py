"""The staff and admin screens through Django's test client: the field designer, the
metadata-driven guest form (same messages as the API), the list filters on custom
fields, the 360° profile with labels in the active language, the language switcher and
the access policy on sensitive fields."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils.html import escape
from django_tenants.utils import tenant_context

from crm.models import Guest
from crm.services.guests import guest_create
from metadata.services.definitions import custom_field_create
from tests.access.conftest import client_for
from tests.api.test_records_api import api, post
from tests.conftest import PASSWORD, tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

PILLOW_FORM = {
    "api_name": "pillow_type",
    "type": "choice",
    "label-en": "Pillow type",
    "label-zh-hans": "枕头类型",
    "help-en": "What the guest sleeps best on",
    "choice-0-value": "feather",
    "choice-0-label-en": "Feather",
    "choice-0-label-zh-hans": "羽绒枕",
    "choice-1-value": "foam",
    "choice-1-label-en": "Memory foam",
    "choice-1-label-zh-hans": "记忆棉枕",
    "choice-2-value": "",
    "filterable": "on",
    "section": "Preferences",
}


def _pillow_field(tenant):
    with tenant_context(tenant):
        return custom_field_create(
            object_api_name="guest",
            api_name="pillow_type",
            label="Pillow type",
            type="choice",
            choices=[
                {"value": "feather", "labels": {"en": "Feather", "zh-hans": "羽绒枕"}},
                {"value": "foam", "labels": {"en": "Memory foam", "zh-hans": "记忆棉枕"}},
            ],
            filterable=True,
            translations={"zh-hans": {"label": "枕头类型"}},
            actor=SYSTEM,
        )


def test_designer_creates_a_translated_choice_field(tenant_a):
    client = tenant_client(tenant_a)

    page = client.get("/settings/objects/guest/fields/new/")
    assert page.status_code == 200
    # One label input per enabled language of the tenant (alpha: en, zh-hans).
    assert b'name="label-en"' in page.content and b'name="label-zh-hans"' in page.content
    assert b'name="label-zh-hant"' not in page.content

    response = client.post("/settings/objects/guest/fields/new/", PILLOW_FORM)
    assert response.status_code == 302, response.content.decode()[:2000]

    listing = client.get("/settings/objects/guest/fields/").content.decode()
    assert "Pillow type" in listing and "pillow_type" in listing and "Filterable" in listing
    described = api(tenant_a).get("/api/v1/metadata/objects/guest/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    [field] = [f for f in described.json()["fields"] if f["api_name"] == "pillow_type"]
    assert field["label"] == "枕头类型" and field["filterable"] is True
    assert field["choices"] == [
        {"value": "feather", "label": "羽绒枕"},
        {"value": "foam", "label": "记忆棉枕"},
    ]
    assert field["section"] == "Preferences"


def test_designer_shows_the_services_messages_next_to_the_inputs(tenant_a):
    client = tenant_client(tenant_a)
    bad = dict(PILLOW_FORM, api_name="Pillow Type", **{"choice-1-value": "feather"})

    response = client.post("/settings/objects/guest/fields/new/", bad)

    assert response.status_code == 400
    text = response.content.decode()
    assert "Use 2-60 lower-case letters, digits and single underscores" in text
    assert 'id="api_name-error"' in text
    # What was typed stays in the form.
    assert 'value="枕头类型"' in text

    twice = client.post(
        "/settings/objects/guest/fields/new/", dict(PILLOW_FORM, **{"choice-1-value": "feather"})
    )
    assert twice.status_code == 400
    assert "The choice feather appears twice." in twice.content.decode()


def test_designer_edits_archives_and_restores(tenant_a):
    _pillow_field(tenant_a)
    client = tenant_client(tenant_a)
    edit = client.get("/settings/objects/guest/fields/pillow_type/")
    assert edit.status_code == 200 and 'value="记忆棉枕"' in edit.content.decode()

    changed = client.post(
        "/settings/objects/guest/fields/pillow_type/",
        {
            "type": "choice",
            "label-en": "Pillow",
            "label-zh-hans": "枕头",
            "choice-0-value": "feather",
            "choice-0-label-en": "Feather",
            "choice-1-value": "foam",
            "choice-1-label-en": "Foam",
            "choice-2-value": "latex",
            "choice-2-label-en": "Latex",
            "required": "on",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:1500]
    with tenant_context(tenant_a):
        from metadata.models import FieldDefinition

        field = FieldDefinition.objects.get(api_name="pillow_type")
        assert field.label_en == "Pillow" and field.label_zh_hans == "枕头"
        assert [c["value"] for c in field.choices] == ["feather", "foam", "latex"]
        assert field.required is True and field.filterable is False

    archived = client.post("/settings/objects/guest/fields/pillow_type/archive/")
    assert archived.status_code == 302
    assert "Archived" in client.get("/settings/objects/guest/fields/").content.decode()
    client.post("/settings/objects/guest/fields/pillow_type/archive/", {"restore": "1"})
    with tenant_context(tenant_a):
        assert FieldDefinition.objects.get(api_name="pillow_type").archived_at is None


def test_type_change_shows_the_dry_run_before_applying(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="room_no", label="Room", type="text", actor=SYSTEM
        )
        guest_create(given_name="A", surname="One", custom={"room_no": "12"}, actor=SYSTEM)
        guest_create(given_name="B", surname="Two", custom={"room_no": "twelve"}, actor=SYSTEM)
    client = tenant_client(tenant_a)

    dry = client.post("/settings/objects/guest/fields/room_no/type/", {"type": "integer"})

    text = dry.content.decode()
    assert dry.status_code == 200
    assert "2 stored values: 1 would convert, 1 would fail." in text
    assert "twelve" in text and "must be a number." in text
    refused = client.post(
        "/settings/objects/guest/fields/room_no/type/", {"type": "integer", "apply": "1"}
    )
    assert refused.status_code == 400
    assert "1 stored values cannot become integer" in refused.content.decode()


def test_choice_rows_are_added_with_htmx(tenant_a):
    client = tenant_client(tenant_a)
    row = client.get("/settings/objects/guest/fields/choice-row/?index=3", HTTP_HX_REQUEST="true")
    text = row.content.decode()
    assert 'name="choice-3-value"' in text and 'name="choice-3-label-zh-hans"' in text
    assert "index=4" in text


def test_staff_cannot_open_settings(make_user, alpha):
    client = client_for(make_user("front_office"), alpha)
    response = client.get("/settings/objects/guest/fields/new/")
    assert response.status_code == 403
    assert "Only administrators change the settings." in response.content.decode()
    assert client.post("/settings/objects/guest/fields/new/", PILLOW_FORM).status_code == 403


def test_guest_form_is_generated_from_metadata_and_validates_like_the_api(tenant_a):
    _pillow_field(tenant_a)
    client = tenant_client(tenant_a)
    form = client.get("/guests/new/").content.decode()
    assert 'name="custom.pillow_type"' in form and "Pillow type" in form
    assert '<option value="foam">Memory foam</option>' in form

    bad = client.post(
        "/guests/new/", {"given_name": "Bo", "surname": "Chen", "custom.pillow_type": "iron"}
    )
    assert bad.status_code == 400
    from_api = post(
        api(tenant_a),
        "/api/v1/guests/",
        {"given_name": "Bo", "surname": "Chen", "custom": {"pillow_type": "iron"}},
    ).json()["errors"][0]["message"]
    assert from_api == "Pillow type must be one of feather, foam."
    assert from_api in bad.content.decode()
    assert 'id="id_custom_pillow_type-error"' in bad.content.decode()

    no_name = client.post("/guests/new/", {"given_name": "", "surname": ""})
    assert no_name.status_code == 400
    assert "A guest needs a surname or a given name." in no_name.content.decode()

    bad_date = client.post("/guests/new/", {"surname": "Chen", "birth_date": "31/12/1990"})
    assert "birth_date must be a date as YYYY-MM-DD." in bad_date.content.decode()

    made = client.post(
        "/guests/new/",
        {
            "given_name": "Ana",
            "surname": "Lima",
            "email": "ana@example.com",
            "nationality": "PT",
            "custom.pillow_type": "foam",
        },
    )
    assert made.status_code == 302
    with tenant_context(tenant_a):
        guest = Guest.objects.get(surname="Lima")
        assert guest.custom == {"pillow_type": "foam"} and guest.email == "ana@example.com"
    assert made["Location"] == f"/guests/{guest.pk}/"


def test_edit_keeps_what_the_user_may_not_change(make_user, alpha):
    guest = guest_create(
        given_name="Ana",
        surname="Lima",
        id_document_type="passport",
        id_document_number="X1234567",
        actor=SYSTEM,
    )
    clerk = client_for(make_user("front_office"), alpha)
    form = clerk.get(f"/guests/{guest.pk}/edit/").content.decode()
    assert "id_document_number" not in form and "X1234567" not in form

    saved = clerk.post(
        f"/guests/{guest.pk}/edit/",
        # A forged input for a hidden field is ignored, never written.
        {"given_name": "Ana", "surname": "Lima-Silva", "id_document_number": "HACKED"},
    )
    assert saved.status_code == 302
    guest.refresh_from_db()
    assert guest.surname == "Lima-Silva" and guest.id_document_number == "X1234567"


def test_list_filters_on_a_custom_choice_field(tenant_a):
    _pillow_field(tenant_a)
    with tenant_context(tenant_a):
        guest_create(given_name="Ana", surname="Lima", custom={"pillow_type": "foam"}, actor=SYSTEM)
        guest_create(
            given_name="Bo", surname="Chen", custom={"pillow_type": "feather"}, actor=SYSTEM
        )
        guest_create(given_name="Cy", surname="Diaz", actor=SYSTEM)
    client = tenant_client(tenant_a)

    page = client.get("/guests/", {"custom.pillow_type": "foam"}).content.decode()

    assert "Lima" in page and "Chen" not in page and "Diaz" not in page
    assert '<option value="foam" selected>Memory foam</option>' in page
    assert "custom.pillow_type=foam" in page  # export and pages keep the filter
    bad = client.get("/guests/", {"custom.pillow_type": "iron"})
    assert bad.status_code == 400
    assert escape("Filter value 'iron' must be one of feather, foam.") in bad.content.decode()


def test_profile_shows_custom_fields_in_the_chosen_language(tenant_a):
    _pillow_field(tenant_a)
    with tenant_context(tenant_a):
        guest = guest_create(
            given_name="Ana", surname="Lima", custom={"pillow_type": "foam"}, actor=SYSTEM
        )
    client = tenant_client(tenant_a)
    english = client.get(f"/guests/{guest.pk}/").content.decode()
    assert "Pillow type" in english and "Memory foam" in english

    switched = client.post(
        "/i18n/language/", {"language": "zh-hans", "next": f"/guests/{guest.pk}/"}
    )
    assert switched.status_code == 302
    chinese = client.get(f"/guests/{guest.pk}/").content.decode()
    assert "枕头类型" in chinese and "记忆棉枕" in chinese
    assert '<html lang="zh-hans">' in chinese


def test_language_switcher_offers_only_the_tenants_languages(tenant_a):
    client = tenant_client(tenant_a)
    page = client.get("/").content.decode()
    assert 'value="zh-hans"' in page and 'value="zh-hant"' not in page

    refused = client.post("/i18n/language/", {"language": "zh-hant", "next": "/"})
    assert refused.status_code == 400
    assert "zh-hant is not one of this workspace" in refused.content.decode()
    # A browser asking for Traditional Chinese gets the tenant's default instead.
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
    assert '<html lang="en">' in page


def test_front_office_does_not_see_the_identity_number_an_admin_does(make_user, alpha):
    guest = guest_create(
        given_name="Ana",
        surname="Lima",
        id_document_type="passport",
        id_document_number="X1234567",
        actor=SYSTEM,
    )
    clerk = client_for(make_user("front_office"), alpha)
    admin = client_for(make_user("tenant_admin"), alpha)

    hidden = clerk.get(f"/guests/{guest.pk}/").content.decode()
    shown = admin.get(f"/guests/{guest.pk}/").content.decode()

    assert "Ana Lima" in hidden and "X1234567" not in hidden and "Identity number" not in hidden
    assert re.search(r'data-field="id_document_number">X1234567<', shown)
    from tenants.access.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="sensitive_read", record_id=str(guest.pk), fields__contains=["id_document_number"]
    ).exists()


def test_password_reset_by_email(tenant_a):
    client = tenant_client(tenant_a, login=False)
    sent = client.post("/password/reset/", {"email": "admin@alpha.test"})
    assert sent.status_code == 302
    [message] = mail.outbox
    link = re.search(r"http://alpha\.test(/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-Long-pass-77", "new_password2": "another-Long-pass-77"},
    )
    assert done.status_code == 302
    fresh = tenant_client(tenant_a, login=False)
    assert (
        fresh.post(
            "/login/", {"username": "admin@alpha.test", "password": "another-Long-pass-77"}
        ).status_code
        == 302
    )
    with tenant_context(tenant_a):
        from tenants.users.services import user_password_set

        user_password_set(email="admin@alpha.test", password=PASSWORD)


def test_sensitive_custom_columns_follow_the_policy_and_are_audited(make_user, alpha):
    from tenants.access.models import AuditEvent

    custom_field_create(
        object_api_name="guest",
        api_name="loyalty_no",
        label="Loyalty number",
        type="text",
        filterable=True,
        sensitive=True,
        actor=SYSTEM,
    )
    guest = guest_create(
        given_name="Ana", surname="Lima", custom={"loyalty_no": "LX-991"}, actor=SYSTEM
    )
    clerk = client_for(make_user("front_office"), alpha)
    admin = client_for(make_user("tenant_admin"), alpha)

    hidden = clerk.get("/guests/").content.decode()
    assert "Lima" in hidden and "LX-991" not in hidden and "Loyalty number" not in hidden
    assert clerk.get("/guests/", {"custom.loyalty_no": "LX-991"}).status_code == 200
    shown = admin.get("/guests/").content.decode()
    assert "Loyalty number" in shown and "LX-991" in shown
    event = AuditEvent.objects.filter(action="sensitive_read", fields__contains=["loyalty_no"])
    assert event.filter(details__record_ids__contains=[str(guest.pk)]).exists()


def test_a_new_guest_who_may_repeat_a_profile_is_named_before_it_is_created(tenant_a):
    client = tenant_client(tenant_a)
    first = {"given_name": "Ana", "surname": "Lima", "email": "ana@example.com",
             "phone": "+351 912 345 678", "nationality": "PT"}  # fmt: skip
    assert client.post("/guests/new/", first).status_code == 302
    with tenant_context(tenant_a):
        ana = Guest.objects.get(surname="Lima")
    for again, rule in (
        ({"given_name": "A.", "surname": "Lima-Santos", "email": "ANA@example.com"}, "same e-mail"),
        ({"given_name": "Anna", "surname": "L", "phone": "+351912345678"}, "same phone"),
        ({"given_name": "ana", "surname": "LIMA"}, "same name"),
    ):
        warned = client.post("/guests/new/", again)
        text = warned.content.decode()
        assert warned.status_code == 200 and "data-lookalikes" in text, again
        assert f"/guests/{ana.pk}/" in text and rule in text
        with tenant_context(tenant_a):
            assert Guest.objects.count() == 1
    created = client.post(
        "/guests/new/", {"given_name": "ana", "surname": "LIMA", "create_anyway": "1"}
    )
    assert created.status_code == 302
    fresh = client.post("/guests/new/", {"given_name": "Zhou", "surname": "Mei"})
    assert fresh.status_code == 302  # no lookalike: no question asked
    with tenant_context(tenant_a):
        assert Guest.objects.count() == 3
