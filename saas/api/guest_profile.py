"""The parts of a guest profile that are lists of their own, and the privacy tools:

    GET, POST  /api/v1/guests/{id}/consents/          consent events (the current state per
                                                       channel and purpose, and the history)
    GET, POST  /api/v1/guests/{id}/preferences/       {"group": "PILLOW", "code": "FOAM"}
    DELETE     /api/v1/guests/{id}/preferences/{pid}/
    GET, POST  /api/v1/guests/{id}/emails/            {"email", "kind", "primary"}
    DELETE     /api/v1/guests/{id}/emails/{eid}/
    POST       /api/v1/guests/{id}/emails/{eid}/primary/
    GET, POST  /api/v1/guests/{id}/phones/            (the same for phone numbers)
    DELETE     /api/v1/guests/{id}/phones/{pid}/
    POST       /api/v1/guests/{id}/phones/{pid}/primary/
    GET, POST  /api/v1/guests/{id}/addresses/
    GET        /api/v1/guests/{id}/export/?file_format=json|zip   administrators
    POST       /api/v1/guests/{id}/erase/             {"confirm": true, "reason": "..."}

Reading needs the view right on guests and the guest within the caller's hotels (a 404
otherwise, alike for "not there" and "not yours"); writing needs edit and the edit level
on the list's field (``consents``, ``preferences``, ``emails``, ``phones``,
``addresses``). Export and erase are for administrators (an API key needs
``admin:write``): they reach every field, sensitive ones included, and are logged as
privacy requests. All writes go through ``crm.services.guests`` / ``crm.services.privacy``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import (
    Guest,
    GuestAddress,
    GuestConsent,
    GuestEmail,
    GuestPhone,
    GuestPreference,
    Property,
)
from crm.selectors.guests import guest_consents_current, guest_get
from crm.services.guests import (
    guest_address_add,
    guest_consent_record,
    guest_email_add,
    guest_email_remove,
    guest_email_set_primary,
    guest_phone_add,
    guest_phone_remove,
    guest_phone_set_primary,
    guest_preference_clear,
    guest_preference_set,
)
from crm.services.privacy import guest_erase, guest_export, guest_export_archive
from metadata.selectors.records import record_for
from saas.api.activities import TenantDateTimeField
from saas.api.openapi import ERROR_STATUSES
from tenants.access.principal import Principal
from tenants.errors import NotFound

ERRORS_REF = {"$ref": "#/components/schemas/Errors"}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of an operation, each with the one error body."""
    return {
        code: OpenApiResponse(response=ERRORS_REF, description=ERROR_STATUSES[str(code)])
        for code in codes
    }


READ_ERRORS = errors(401, 403, 404)
WRITE_ERRORS = errors(400, 401, 403, 404, 409)


def _guest(request, pk: int, action: str) -> tuple[Principal, Guest]:
    """The guest if the caller may ``action`` guests and reaches this one (403 for the
    right, 404 alike for absent and out of the caller's hotels)."""
    actor = Principal.from_request(request)
    record_for(actor=actor, object_api_name="guest", record_id=pk, action=action)
    return actor, guest_get(guest_id=pk)


def _child(queryset, pk: int, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {what} with id {pk} on this guest.", field="id")
    return found


def _emails_of(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "email"))


# --- consents ------------------------------------------------------------------------


def consent_as_dict(consent: GuestConsent, emails: dict[int, str]) -> dict[str, Any]:
    # Through the output serializer: times in UTC whatever zone they were given in.
    return ConsentOutput(_consent_values(consent, emails)).data


def _consent_values(consent: GuestConsent, emails: dict[int, str]) -> dict[str, Any]:
    return {
        "id": consent.pk,
        "channel": consent.channel,
        "purpose": consent.purpose,
        "opted_in": consent.opted_in,
        "source": consent.source,
        "recorded_at": consent.recorded_at,
        "recorded_by": consent.recorded_by_id,
        "recorded_by_email": emails.get(consent.recorded_by_id or 0),
    }


class ConsentOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    channel = serializers.ChoiceField(choices=GuestConsent.Channel.values, read_only=True)
    purpose = serializers.ChoiceField(choices=GuestConsent.Purpose.values, read_only=True)
    opted_in = serializers.BooleanField(read_only=True)
    # DRF's metaclass takes declared fields off the class, so this shadows nothing.
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]
    recorded_at = serializers.DateTimeField(read_only=True)
    recorded_by = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The staff user who recorded it."
    )
    recorded_by_email = serializers.EmailField(read_only=True, allow_null=True)


class ConsentListOutput(serializers.Serializer):
    current = ConsentOutput(
        many=True, help_text="The latest event of each channel and purpose: the state now."
    )
    history = ConsentOutput(many=True, help_text="Every event, newest first.")


class ConsentInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=GuestConsent.Channel.values)
    purpose = serializers.ChoiceField(choices=GuestConsent.Purpose.values)
    opted_in = serializers.BooleanField(help_text="true: opt-in; false: opt-out.")
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=60,
        required=False,
        allow_blank=True,
        help_text="Where the guest said so: web form, front desk, phone call...",
    )
    recorded_at = TenantDateTimeField(
        required=False,
        help_text="When the guest said so (default: now); without an offset, the tenant's "
        "local time. Never in the future.",
    )

    def validate_recorded_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("A consent cannot be recorded in the future.")
        return value


class GuestConsentsApi(APIView):
    @extend_schema(responses={200: ConsentListOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        _actor, guest = _guest(request, pk, "view")
        history = list(GuestConsent.objects.filter(guest_id=guest.pk)[:500])
        current = sorted(
            guest_consents_current(guest=guest).values(), key=lambda c: (c.channel, c.purpose)
        )
        emails = _emails_of({c.recorded_by_id for c in history + current if c.recorded_by_id})
        return Response(
            {
                "current": [consent_as_dict(c, emails) for c in current],
                "history": [consent_as_dict(c, emails) for c in history],
            }
        )

    @extend_schema(request=ConsentInput, responses={201: ConsentOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, guest = _guest(request, pk, "edit")
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        consent = guest_consent_record(guest=guest, actor=actor, **data.validated_data)
        return Response(
            consent_as_dict(consent, _emails_of({consent.recorded_by_id or 0})), status=201
        )


# --- preferences ---------------------------------------------------------------------


def preference_as_dict(preference: GuestPreference) -> dict[str, Any]:
    return {
        "id": preference.pk,
        "group": preference.group,
        "code": preference.code,
        "note": preference.note,
        "property": preference.property_id,
    }


class PreferenceOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)
    property = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Only at this hotel; null: everywhere."
    )


class PreferenceListOutput(serializers.Serializer):
    results = PreferenceOutput(many=True)


class PreferenceInput(serializers.Serializer):
    group = serializers.CharField(max_length=40, help_text="PILLOW, FLOOR, DIETARY, ROOM...")
    code = serializers.CharField(max_length=40, help_text="FOAM, HIGH, VEGETARIAN...")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    property = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, allow_null=True
    )


class GuestPreferencesApi(APIView):
    @extend_schema(responses={200: PreferenceListOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        _actor, guest = _guest(request, pk, "view")
        return Response(
            {
                "results": [
                    preference_as_dict(p) for p in GuestPreference.objects.filter(guest_id=guest.pk)
                ]
            }
        )

    @extend_schema(
        request=PreferenceInput,
        responses={201: PreferenceOutput, **WRITE_ERRORS},
        description="Sets a preference (the same group and code again updates its note).",
    )
    def post(self, request, pk: int):
        actor, guest = _guest(request, pk, "edit")
        data = PreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        hotel = None
        if values.get("property"):
            hotel = Property.objects.filter(pk=values["property"]).first()
            if hotel is None:
                raise NotFound(f"No hotel with id {values['property']}.", field="property")
            actor.require_property(hotel.pk)
        preference = guest_preference_set(
            guest=guest,
            group=values["group"],
            code=values["code"],
            note=values.get("note", ""),
            property=hotel,
            actor=actor,
        )
        return Response(preference_as_dict(preference), status=201)


class GuestPreferenceDetailApi(APIView):
    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def delete(self, request, pk: int, item: int):
        actor, guest = _guest(request, pk, "edit")
        guest_preference_clear(
            preference=_child(
                GuestPreference.objects.filter(guest_id=guest.pk), item, "preference"
            ),
            actor=actor,
        )
        return Response(status=204)


# --- e-mails and phones --------------------------------------------------------------


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    value = serializers.CharField(read_only=True, help_text="The address, or the E.164 number.")
    kind = serializers.CharField(read_only=True)
    primary = serializers.BooleanField(read_only=True)


class ContactListOutput(serializers.Serializer):
    results = ContactOutput(many=True)


def _contact_as_dict(row: GuestEmail | GuestPhone) -> dict[str, Any]:
    value = row.email if isinstance(row, GuestEmail) else row.number
    return {"id": row.pk, "value": value, "kind": row.kind, "primary": row.is_primary}


class EmailInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    kind = serializers.ChoiceField(choices=["personal", "work", "other"], required=False)
    primary = serializers.BooleanField(required=False, default=False)


class PhoneInput(serializers.Serializer):
    number = serializers.CharField(max_length=40, help_text="E.164, or national digits.")
    kind = serializers.ChoiceField(choices=["mobile", "home", "work", "other"], required=False)
    primary = serializers.BooleanField(required=False, default=False)


class GuestEmailsApi(APIView):
    @extend_schema(responses={200: ContactListOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        _actor, guest = _guest(request, pk, "view")
        return Response(
            {"results": [_contact_as_dict(e) for e in GuestEmail.objects.filter(guest_id=guest.pk)]}
        )

    @extend_schema(request=EmailInput, responses={201: ContactOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, guest = _guest(request, pk, "edit")
        data = EmailInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = guest_email_add(
            guest=guest,
            email=values["email"],
            kind=values.get("kind") or "personal",
            primary=values["primary"],
            actor=actor,
        )
        row.refresh_from_db()
        return Response(_contact_as_dict(row), status=201)


class GuestEmailDetailApi(APIView):
    @extend_schema(
        responses={204: None, **errors(401, 403, 404)},
        description="Removes the address; the next one becomes primary if it was.",
    )
    def delete(self, request, pk: int, item: int):
        actor, guest = _guest(request, pk, "edit")
        guest_email_remove(
            guest_email=_child(GuestEmail.objects.filter(guest_id=guest.pk), item, "e-mail"),
            actor=actor,
        )
        return Response(status=204)


class GuestEmailPrimaryApi(APIView):
    @extend_schema(request=None, responses={200: ContactListOutput, **errors(401, 403, 404)})
    def post(self, request, pk: int, item: int):
        actor, guest = _guest(request, pk, "edit")
        guest_email_set_primary(
            guest_email=_child(GuestEmail.objects.filter(guest_id=guest.pk), item, "e-mail"),
            actor=actor,
        )
        return Response(
            {"results": [_contact_as_dict(e) for e in GuestEmail.objects.filter(guest_id=guest.pk)]}
        )


class GuestPhonesApi(APIView):
    @extend_schema(responses={200: ContactListOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        _actor, guest = _guest(request, pk, "view")
        return Response(
            {"results": [_contact_as_dict(p) for p in GuestPhone.objects.filter(guest_id=guest.pk)]}
        )

    @extend_schema(request=PhoneInput, responses={201: ContactOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, guest = _guest(request, pk, "edit")
        data = PhoneInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = guest_phone_add(
            guest=guest,
            number=values["number"],
            kind=values.get("kind") or "mobile",
            primary=values["primary"],
            actor=actor,
        )
        row.refresh_from_db()
        return Response(_contact_as_dict(row), status=201)


class GuestPhoneDetailApi(APIView):
    @extend_schema(
        responses={204: None, **errors(401, 403, 404)},
        description="Removes the number; the next one becomes primary if it was.",
    )
    def delete(self, request, pk: int, item: int):
        actor, guest = _guest(request, pk, "edit")
        guest_phone_remove(
            guest_phone=_child(GuestPhone.objects.filter(guest_id=guest.pk), item, "phone"),
            actor=actor,
        )
        return Response(status=204)


class GuestPhonePrimaryApi(APIView):
    @extend_schema(request=None, responses={200: ContactListOutput, **errors(401, 403, 404)})
    def post(self, request, pk: int, item: int):
        actor, guest = _guest(request, pk, "edit")
        guest_phone_set_primary(
            guest_phone=_child(GuestPhone.objects.filter(guest_id=guest.pk), item, "phone"),
            actor=actor,
        )
        return Response(
            {"results": [_contact_as_dict(p) for p in GuestPhone.objects.filter(guest_id=guest.pk)]}
        )


# --- addresses -----------------------------------------------------------------------


class AddressOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    line1 = serializers.CharField(read_only=True)
    line2 = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    postal_code = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True)
    primary = serializers.BooleanField(read_only=True)


class AddressListOutput(serializers.Serializer):
    results = AddressOutput(many=True)


class AddressInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["home", "work", "billing", "other"], required=False, default="home"
    )
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2"
    )
    primary = serializers.BooleanField(required=False, default=False)


def _address_as_dict(address) -> dict[str, Any]:
    return {
        "id": address.pk,
        **{
            name: getattr(address, name)
            for name in ("kind", "line1", "line2", "city", "region", "postal_code", "country")
        },
        "primary": address.is_primary,
    }


class GuestAddressesApi(APIView):
    @extend_schema(responses={200: AddressListOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        _actor, guest = _guest(request, pk, "view")
        return Response(
            {
                "results": [
                    _address_as_dict(a) for a in GuestAddress.objects.filter(guest_id=guest.pk)
                ]
            }
        )

    @extend_schema(request=AddressInput, responses={201: AddressOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, guest = _guest(request, pk, "edit")
        data = AddressInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        primary = values.pop("primary")
        address = guest_address_add(guest=guest, primary=primary, actor=actor, **values)
        return Response(_address_as_dict(address), status=201)


# --- privacy -------------------------------------------------------------------------


def _rows() -> serializers.ListField:
    return serializers.ListField(child=serializers.DictField(), read_only=True)


class GuestExportOutput(serializers.Serializer):
    profile = serializers.DictField(read_only=True, help_text="Every field, sensitive included.")
    emails = _rows()
    phones = _rows()
    addresses = _rows()
    preferences = _rows()
    consents = _rows()
    external_ids = _rows()
    companies = _rows()
    reservations = _rows()
    cases = _rows()
    activities = _rows()
    messages = _rows()
    changes = _rows()


class ExportFilters(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=["json", "zip"], required=False, default="json")


def _admin_guest(request, pk: int, what: str) -> tuple[Principal, Guest]:
    actor = Principal.from_request(request)
    actor.require_admin(what)
    return _guest(request, pk, "view")


class GuestExportApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("file_format", str, enum=["json", "zip"])],
        responses={
            (200, "application/json"): GuestExportOutput,
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="file_format=zip: guest.json and one CSV file per section.",
            ),
            **errors(400, 401, 403, 404),
        },
        description="Everything held on the guest (administrators; logged).",
    )
    def get(self, request, pk: int):
        actor, guest = _admin_guest(request, pk, "export a guest's personal data")
        filters = ExportFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = guest_export(guest=guest, actor=actor, reason="API export")
        if filters.validated_data["file_format"] == "zip":
            response = HttpResponse(guest_export_archive(data=data), content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="guest-{guest.pk}.zip"'
            return response
        return Response(data)


class EraseInput(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="Must be true: erasure cannot be undone.")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Send true to confirm: erasure cannot be undone.")
        return value


class EraseOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    erased_at = serializers.DateTimeField(read_only=True)


class GuestEraseApi(APIView):
    @extend_schema(
        request=EraseInput,
        responses={200: EraseOutput, **WRITE_ERRORS},
        description="Anonymises the guest and every copy of their data (administrators; "
        "logged). Reservations and revenue stay. A second erasure is a 409.",
    )
    def post(self, request, pk: int):
        actor, guest = _admin_guest(request, pk, "erase a guest's personal data")
        data = EraseInput(data=request.data)
        data.is_valid(raise_exception=True)
        erased = guest_erase(guest=guest, actor=actor, reason=data.validated_data.get("reason", ""))
        return Response(EraseOutput({"id": erased.pk, "erased_at": erased.erased_at}).data)
