"""The services behind the profile's lists and the reservation actions: preferences
cleared and phones made primary with their audit rows, consent kept with who recorded it,
a booking confirmed once and cancelled with a reason, the balance, and refusals for a
lower role and for staff of another hotel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.models import Guest, GuestPreference, RecordChange
from crm.selectors.operations import reservation_balance
from crm.services.guests import (
    guest_consent_record,
    guest_phone_set_primary,
    guest_preference_clear,
    guest_preference_set,
)
from crm.services.reservations import (
    TransitionRefused,
    folio_line_add,
    payment_add,
    reservation_cancel,
    reservation_confirm,
    reservation_status_change,
)
from tenants.access.errors import AccessDenied
from tenants.access.models import Role
from tenants.access.principal import Principal
from tenants.access.services import user_property_scope_set, user_roles_set
from tenants.errors import Conflict
from tenants.users.models import User
from tests.crm.factories import make_guest, make_property, make_reservation
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _staff(email: str, role: str, hotels: list[int] | None = None) -> Principal:
    user = User.objects.create_user(email=email, password="p" * 16)
    user_roles_set(user=user, roles=Role.objects.filter(key=role), actor=SYSTEM)
    if hotels is not None:
        user_property_scope_set(user=user, property_ids=hotels, actor=SYSTEM)
    return Principal.of(User.objects.get(pk=user.pk))


def test_preferences_phones_and_consent_are_audited_with_their_author(tenant_a):
    with tenant_context(tenant_a):
        hotel = make_property()
        guest = make_guest(phones=["+33612345678", "+33698765432"])
        make_reservation(property=hotel, guest=guest)
        clerk = _staff("svc-fo@alpha.test", "front_office")
        preference = guest_preference_set(guest=guest, group="diet", code="vegan", actor=clerk)
        guest_preference_clear(preference=preference, actor=clerk)
        assert not GuestPreference.objects.filter(guest=guest).exists()
        cleared = RecordChange.objects.filter(
            record_id=str(guest.pk), field="preferences", new__isnull=True
        ).get()
        assert cleared.old == {"group": "DIET", "code": "VEGAN", "property": None}
        assert cleared.user_id == clerk.user_id

        second = guest.phones.get(number="+33698765432")
        guest_phone_set_primary(guest_phone=second, actor=clerk)
        assert Guest.objects.get(pk=guest.pk).phone == "+33698765432"
        assert list(guest.phones.filter(is_primary=True).values_list("number", flat=True)) == [
            "+33698765432"
        ]

        consent = guest_consent_record(
            guest=guest, channel="sms", purpose="marketing", opted_in=False, source="call",
            actor=clerk,
        )  # fmt: skip
        assert consent.recorded_by_id == clerk.user_id
        with pytest.raises(ValidationError) as bad:
            guest_preference_set(guest=guest, group="g", code="c", note="n" * 201, actor=clerk)
        assert "note" in bad.value.message_dict


def test_a_lower_role_and_another_hotel_are_refused(tenant_a):
    with tenant_context(tenant_a):
        hotel, other = make_property(), make_property()
        guest = make_guest(phones=["+33612345678"])
        make_reservation(property=hotel, guest=guest)
        preference = guest_preference_set(guest=guest, group="floor", code="high", actor=SYSTEM)
        reader = _staff("svc-ro@alpha.test", "read_only")
        elsewhere = _staff("svc-b@alpha.test", "front_office", hotels=[other.pk])
        for actor in (reader, elsewhere):
            with pytest.raises(AccessDenied):
                guest_consent_record(
                    guest=guest, channel="sms", purpose="service", opted_in=True, actor=actor
                )
            with pytest.raises(AccessDenied):
                guest_preference_clear(preference=preference, actor=actor)
            with pytest.raises(AccessDenied):
                guest_phone_set_primary(guest_phone=guest.phones.get(), actor=actor)
        assert GuestPreference.objects.filter(pk=preference.pk).exists()
        assert not guest.consents.exists()


def test_a_booking_is_confirmed_once_and_cancelled_with_a_reason(tenant_a):
    with tenant_context(tenant_a):
        hotel = make_property()
        stay = make_reservation(property=hotel, guest=make_guest())
        confirmed = reservation_confirm(reservation=stay, actor=SYSTEM)
        assert confirmed.confirmed_at is not None
        assert RecordChange.objects.filter(
            object_api_name="reservation", record_id=str(stay.pk), field="confirmed_at"
        ).exists()
        with pytest.raises(Conflict):
            reservation_confirm(reservation=stay, actor=SYSTEM)
        with pytest.raises(ValidationError) as long:
            reservation_cancel(reservation=stay, actor=SYSTEM, reason="r" * 201)
        assert "reason" in long.value.message_dict
        cancelled = reservation_cancel(reservation=stay, actor=SYSTEM, reason="  Strike  ")
        assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", "Strike")
        with pytest.raises(TransitionRefused):
            reservation_confirm(reservation=stay, actor=SYSTEM)
        back = reservation_status_change(reservation=stay, status="reserved", actor=SYSTEM)
        assert back.cancellation_reason == "" and back.cancelled_at is None
        elsewhere = _staff("svc-res-b@alpha.test", "reservations", hotels=[make_property().pk])
        with pytest.raises(AccessDenied):
            reservation_confirm(reservation=make_reservation(property=hotel, guest=make_guest()),
                                actor=elsewhere)  # fmt: skip


def test_the_balance_is_charges_less_payments(tenant_a):
    with tenant_context(tenant_a):
        stay = make_reservation(property=make_property(), guest=make_guest())
        assert reservation_balance(actor=SYSTEM, reservation=stay) == [
            {"currency": "EUR", "charges": Decimal("0"), "payments": Decimal("0"),
             "balance": Decimal("0")}
        ]  # fmt: skip
        for amount in ("120.00", "-20.00"):
            folio_line_add(reservation=stay, kind="room", amount=Decimal(amount),
                           posted_on=date(2026, 3, 1), actor=SYSTEM)  # fmt: skip
        payment_add(reservation=stay, method="cash", amount=Decimal("30"), actor=SYSTEM)
        [row] = reservation_balance(actor=SYSTEM, reservation=stay)
        assert (row["charges"], row["payments"], row["balance"]) == (
            Decimal("100.000"), Decimal("30.000"), Decimal("70.000")
        )  # fmt: skip
