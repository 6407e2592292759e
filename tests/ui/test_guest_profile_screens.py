"""The guest profile's contact, preference, consent and privacy forms: each write lands
through crm's services, odd input is a message (never a server error), and lower roles
and hotel-limited staff are refused without a write."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.messages import get_messages

from crm.models import Guest, GuestConsent, GuestEmail, GuestPhone, GuestPreference, PrivacyRequest
from tenants.access.services import user_property_scope_set
from tests.access.conftest import client_for
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def stay(alpha):
    hotel = make_property(name="Harbour View")
    guest = make_guest(
        given_name="Mireille", surname="Profilée", emails=["mireille@example.fr"],
        phones=["+33612345678"],
    )  # fmt: skip
    make_reservation(property=hotel, guest=guest)
    return hotel, guest


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_front_office_edits_contacts_preferences_and_consent(make_user, alpha, stay):
    hotel, guest = stay
    clerk = make_user("front_office")
    client = client_for(clerk, alpha)
    profile = f"/guests/{guest.pk}/"

    added = client.post(f"{profile}contacts/", {"action": "add_email", "email": "m@work.example",
                                                "kind": "work", "primary": "1"})  # fmt: skip
    assert added.status_code == 302 and added["Location"] == f"{profile}#contacts-h"
    assert Guest.objects.get(pk=guest.pk).email == "m@work.example"
    old = GuestEmail.objects.get(guest=guest, email="mireille@example.fr")
    client.post(f"{profile}contacts/", {"action": "primary_email", "item": old.pk})
    assert Guest.objects.get(pk=guest.pk).email == "mireille@example.fr"
    client.post(f"{profile}contacts/", {"action": "add_phone", "number": "+33 6 11 22 33 44"})
    new_phone = GuestPhone.objects.get(guest=guest, number="+33611223344")
    client.post(f"{profile}contacts/", {"action": "primary_phone", "item": new_phone.pk})
    assert Guest.objects.get(pk=guest.pk).phone == "+33611223344"
    first = GuestPhone.objects.get(guest=guest, number="+33612345678")
    client.post(f"{profile}contacts/", {"action": "remove_phone", "item": first.pk})
    assert list(GuestPhone.objects.filter(guest=guest).values_list("number", flat=True)) == [
        "+33611223344"
    ]

    client.post(f"{profile}preferences/", {"group": "pillow", "code": "feather", "note": "two"})
    client.post(f"{profile}preferences/", {"group": "floor", "code": "high", "property": hotel.pk})
    assert sorted(GuestPreference.objects.filter(guest=guest).values_list("group", "code")) == [
        ("FLOOR", "HIGH"), ("PILLOW", "FEATHER"),
    ]  # fmt: skip
    pillow = GuestPreference.objects.get(guest=guest, group="PILLOW")
    client.post(f"{profile}preferences/", {"action": "clear", "item": pillow.pk})
    assert not GuestPreference.objects.filter(pk=pillow.pk).exists()

    choice = {"channel": "sms", "purpose": "marketing", "opted_in": "no", "source": "front desk",
              "recorded_at": "2026-01-05T09:30"}  # fmt: skip
    recorded = client.post(f"{profile}consents/", choice)
    assert _texts(recorded)[-1] == "Consent recorded."
    consent = GuestConsent.objects.get(guest=guest)
    assert (consent.opted_in, consent.source, consent.recorded_by_id) == (
        False,
        "front desk",
        clerk.pk,
    )
    # Typed in the tenant's zone (Paris, UTC+1 in January).
    assert consent.recorded_at.isoformat() == "2026-01-05T08:30:00+00:00"

    page = client.get(profile).content.decode()
    assert 'data-consent="sms/marketing"' in page and f"by {clerk.email}" in page
    assert 'data-preference="FLOOR/HIGH"' in page and "Harbour View" in page
    assert 'data-phone="+33611223344"' in page
    assert "Erase this guest" not in page  # privacy tools are for administrators


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("contacts/", {"action": "add_email", "email": "not-an-address"}, None),
        ("contacts/", {"action": "add_phone", "number": "call me"}, None),
        ("contacts/", {"action": "teleport"}, "Choose what to do with the contact details."),
        ("preferences/", {"group": "", "code": ""}, None),
        ("preferences/", {"group": "g", "code": "c" * 41}, "At most 40 characters."),
        (
            "preferences/",
            {"group": "g", "code": "c", "property": "99999999999999999999"},
            "Choose one of your hotels, or every hotel.",
        ),  # fmt: skip
        ("consents/", {"channel": "pigeon", "purpose": "marketing", "opted_in": "yes"}, None),
        ("consents/", {"channel": "sms", "purpose": "marketing"}, "Choose opt-in or opt-out."),
        (
            "consents/",
            {"channel": "sms", "purpose": "marketing", "opted_in": "yes", "source": "x" * 61},
            None,
        ),  # fmt: skip
        # PostgreSQL refuses NUL in text: a message, never a server error.
        (
            "consents/",
            {"channel": "sms", "purpose": "marketing", "opted_in": "yes", "source": "a\x00b"},
            "Text cannot contain NUL characters.",
        ),
        ("preferences/", {"group": "a\x00", "code": "b"}, "Text cannot contain NUL characters."),
        (
            "consents/",
            {
                "channel": "sms",
                "purpose": "marketing",
                "opted_in": "yes",
                "recorded_at": "2999-01-01T10:00",
            },
            "A consent cannot be recorded in the future.",
        ),  # fmt: skip
        (
            "consents/",
            {"channel": "sms", "purpose": "marketing", "opted_in": "yes", "recorded_at": "soon"},
            "Give the time as a date and time.",
        ),
        ("contacts/", {"action": "add_email", "email": "a\x00@example.com"}, None),
        ("erase/", {"confirm": "1", "reason": "\x00"}, "Text cannot contain NUL characters."),
    ],
)
def test_odd_input_is_a_message_and_writes_nothing(alpha, make_user, stay, path, data, message):
    _hotel, guest = stay
    client = client_for(make_user("tenant_admin"), alpha)
    answer = client.post(f"/guests/{guest.pk}/{path}", data)
    assert answer.status_code == 302
    texts = _texts(answer)
    assert len(texts) >= 1 and not any(
        t.endswith("added.") or t == "Consent recorded." for t in texts
    )
    if message:
        assert message in texts
    assert not GuestConsent.objects.filter(guest=guest).exists()
    assert not GuestPreference.objects.filter(guest=guest).exists()
    assert GuestEmail.objects.filter(guest=guest).count() == 1
    assert GuestPhone.objects.filter(guest=guest).count() == 1
    assert Guest.objects.get(pk=guest.pk).erased_at is None


def test_missing_items_are_404s(alpha, make_user, stay):
    _hotel, guest = stay
    client = client_for(make_user("tenant_admin"), alpha)
    for action in ("remove_email", "primary_phone"):
        answer = client.post(f"/guests/{guest.pk}/contacts/", {"action": action, "item": "999999"})
        assert answer.status_code == 404
    answer = client.post(f"/guests/{guest.pk}/preferences/", {"action": "clear", "item": "x"})
    assert answer.status_code == 404


def test_lower_roles_and_other_hotels_are_refused_without_a_write(alpha, make_user, stay):
    _hotel, guest = stay
    reader = client_for(make_user("read_only"), alpha)
    scoped_user = make_user("front_office")
    user_property_scope_set(user=scoped_user, property_ids=[make_property().pk], actor=SYSTEM)
    elsewhere = client_for(scoped_user, alpha)
    consent = {"channel": "sms", "purpose": "marketing", "opted_in": "yes"}
    assert reader.post(f"/guests/{guest.pk}/consents/", consent).status_code == 403
    assert (
        reader.post(f"/guests/{guest.pk}/preferences/", {"group": "a", "code": "b"}).status_code
        == 403
    )
    assert elsewhere.post(f"/guests/{guest.pk}/consents/", consent).status_code == 404
    assert (
        elsewhere.post(
            f"/guests/{guest.pk}/contacts/", {"action": "add_email", "email": "x@example.com"}
        ).status_code
        == 404
    )
    manager = client_for(make_user("general_manager"), alpha)
    assert manager.get(f"/guests/{guest.pk}/export/").status_code == 403
    assert manager.post(f"/guests/{guest.pk}/erase/", {"confirm": "1"}).status_code == 403
    assert not GuestConsent.objects.filter(guest=guest).exists()
    assert not GuestPreference.objects.filter(guest=guest).exists()
    assert GuestEmail.objects.filter(guest=guest).count() == 1
    assert Guest.objects.get(pk=guest.pk).erased_at is None
    assert not PrivacyRequest.objects.filter(guest_id=guest.pk).exists()


def test_an_admin_exports_and_erases_from_the_profile(alpha, make_user, stay):
    _hotel, guest = stay
    client = client_for(make_user("tenant_admin"), alpha)
    page = client.get(f"/guests/{guest.pk}/").content.decode()
    assert "Erase this guest" in page and "?file_format=zip" in page

    exported = client.get(f"/guests/{guest.pk}/export/?file_format=json")
    assert exported["Content-Disposition"] == f'attachment; filename="guest-{guest.pk}.json"'
    assert json.loads(exported.content)["profile"]["surname"] == "Profilée"
    packed = client.get(f"/guests/{guest.pk}/export/?file_format=zip")
    archive = zipfile.ZipFile(io.BytesIO(packed.content))
    assert "Profilée" in archive.read("profile.csv").decode("utf-8-sig")

    unticked = client.post(f"/guests/{guest.pk}/erase/", {"reason": "asked"})
    assert "Tick the box to confirm: erasure cannot be undone." in _texts(unticked)
    assert Guest.objects.get(pk=guest.pk).erased_at is None
    erased = client.post(f"/guests/{guest.pk}/erase/", {"confirm": "1", "reason": "asked"})
    assert _texts(erased)[-1] == "The guest's personal data was erased."
    gone = Guest.objects.get(pk=guest.pk)
    assert gone.erased_at is not None and gone.given_name == "Erased"
    page = client.get(f"/guests/{guest.pk}/").content.decode()
    assert "Profilée" not in page and "Erase this guest" not in page
    again = client.post(f"/guests/{guest.pk}/erase/", {"confirm": "1"})
    assert again.status_code == 302  # already erased: a message, not an error page


def test_the_change_history_shows_what_the_reader_may_read(alpha, make_user, stay):
    from datetime import date

    from crm.services.guests import guest_update

    _hotel, guest = stay
    admin_user = make_user("tenant_admin")
    admin = client_for(admin_user, alpha)
    admin.post(f"/guests/{guest.pk}/consents/", {"channel": "sms", "purpose": "service",
                                                "opted_in": "yes", "source": "kiosk"})  # fmt: skip
    guest_update(guest=guest, birth_date=date(1977, 7, 7), vip_level=3, actor=SYSTEM)

    page = admin.get(f"/guests/{guest.pk}/").content.decode()
    assert "Change history" in page and "consent:sms:service" in page and admin_user.email in page
    assert "kiosk" in page and "1977-07-07" not in page  # a sensitive value is not repeated
    assert "Changed (sensitive: values not shown here)" in page
    assert "<code>birth_date</code>" in page
    clerk = client_for(make_user("front_office"), alpha)
    page = clerk.get(f"/guests/{guest.pk}/").content.decode()
    assert "<code>vip_level</code>" in page
    # Front office cannot read the birth date at all: its change is not listed.
    assert "<code>birth_date</code>" not in page
