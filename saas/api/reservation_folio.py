"""A reservation's folio, payments and status actions through the API:

    GET, POST  /api/v1/reservations/{id}/folio/      charges; the answer carries the balance
    GET, POST  /api/v1/reservations/{id}/payments/
    POST       /api/v1/reservations/{id}/status/     {"action": "confirm|check_in|check_out|
                                                      cancel|no_show|reinstate",
                                                      "reason": "..." (with cancel)}

Reading needs the view right on reservations and the booking within the caller's hotels
(a 404 alike for absent and out of reach); writing needs edit. Every write goes through
``crm.services.reservations`` (amounts rounded to the currency's minor unit, the currency
one of the tenant's, status transitions as the service allows them), so the audit trail,
webhooks and workflows follow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import FolioLine, Payment, Reservation
from crm.selectors.operations import reservation_balance
from crm.services.reservations import (
    folio_line_add,
    payment_add,
    reservation_cancel,
    reservation_confirm,
    reservation_status_change,
)
from metadata.selectors.records import record_for
from saas.api.activities import TenantDateTimeField
from saas.api.guest_profile import READ_ERRORS, WRITE_ERRORS
from saas.api.serializers import FullDateField
from tenants.access.principal import Principal

AMOUNT_LIMIT = Decimal("100000000000")  # the columns hold 14 digits, 3 after the point
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
RESERVATION_STATUSES = Reservation.Status.values
FOLIO_KINDS = FolioLine.Kind.values


def _reservation(request, pk: int, action: str) -> tuple[Principal, Reservation]:
    actor = Principal.from_request(request)
    found = record_for(actor=actor, object_api_name="reservation", record_id=pk, action=action)
    return actor, found


class BalanceOutput(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    charges = serializers.DecimalField(max_digits=15, decimal_places=3, read_only=True)
    payments = serializers.DecimalField(max_digits=15, decimal_places=3, read_only=True)
    balance = serializers.DecimalField(
        max_digits=15, decimal_places=3, read_only=True, help_text="Charges less payments."
    )


def _balance(actor: Principal, reservation: Reservation) -> Any:
    return BalanceOutput(reservation_balance(actor=actor, reservation=reservation), many=True).data


class FolioLineOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=FOLIO_KINDS, read_only=True)
    description = serializers.CharField(read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)
    currency = serializers.CharField(read_only=True)
    posted_on = FullDateField(read_only=True)


class FolioOutput(serializers.Serializer):
    results = FolioLineOutput(many=True)
    balance = BalanceOutput(many=True)


def _amount(*, allow_negative: bool) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        min_value=-AMOUNT_LIMIT + 1 if allow_negative else Decimal("0.001"),
        max_value=AMOUNT_LIMIT - 1,
        help_text="Rounded to the currency's minor unit."
        + (" Negative for a correction." if allow_negative else ""),
    )


class FolioLineInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FOLIO_KINDS)
    amount = _amount(allow_negative=True)
    currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, help_text="Default: the booking's."
    )
    posted_on = FullDateField()
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_posted_on(self, value: date) -> date:
        if not 1900 <= value.year <= 2999:
            raise serializers.ValidationError("Give a date between 1900 and 2999.")
        return value

    def validate_amount(self, value: Decimal) -> Decimal:
        if value == 0:
            raise serializers.ValidationError("A charge of nothing is not a charge.")
        return value


class ReservationFolioApi(APIView):
    @extend_schema(responses={200: FolioOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        actor, reservation = _reservation(request, pk, "view")
        lines = FolioLine.objects.filter(reservation=reservation).order_by("posted_on", "pk")
        return Response(
            {
                "results": FolioLineOutput(lines, many=True).data,
                "balance": _balance(actor, reservation),
            }
        )

    @extend_schema(request=FolioLineInput, responses={201: FolioLineOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, reservation = _reservation(request, pk, "edit")
        data = FolioLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        line = folio_line_add(reservation=reservation, actor=actor, **data.validated_data)
        return Response(FolioLineOutput(line).data, status=201)


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    method = serializers.ChoiceField(choices=Payment.Method.values, read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)
    currency = serializers.CharField(read_only=True)
    reference = serializers.CharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)


class PaymentsOutput(serializers.Serializer):
    results = PaymentOutput(many=True)
    balance = BalanceOutput(many=True)


class PaymentInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=Payment.Method.values)
    amount = _amount(allow_negative=False)
    currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, help_text="Default: the booking's."
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    received_at = TenantDateTimeField(
        required=False, help_text="Default: now; without an offset, the tenant's local time."
    )


class ReservationPaymentsApi(APIView):
    @extend_schema(responses={200: PaymentsOutput, **READ_ERRORS})
    def get(self, request, pk: int):
        actor, reservation = _reservation(request, pk, "view")
        payments = Payment.objects.filter(reservation=reservation).order_by("received_at", "pk")
        return Response(
            {
                "results": PaymentOutput(payments, many=True).data,
                "balance": _balance(actor, reservation),
            }
        )

    @extend_schema(request=PaymentInput, responses={201: PaymentOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        actor, reservation = _reservation(request, pk, "edit")
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = payment_add(reservation=reservation, actor=actor, **data.validated_data)
        return Response(PaymentOutput(payment).data, status=201)


STATUS_ACTIONS = ("confirm", "check_in", "check_out", "cancel", "no_show", "reinstate")
TARGETS = {
    "check_in": Reservation.Status.IN_HOUSE,
    "check_out": Reservation.Status.CHECKED_OUT,
    "no_show": Reservation.Status.NO_SHOW,
    "reinstate": Reservation.Status.RESERVED,
}


class StatusInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=STATUS_ACTIONS)
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="With cancel only."
    )


class StatusOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=RESERVATION_STATUSES, read_only=True)
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancellation_reason = serializers.CharField(read_only=True)


class ReservationStatusApi(APIView):
    @extend_schema(
        request=StatusInput,
        responses={200: StatusOutput, **WRITE_ERRORS},
        description="A transition the booking's status does not allow is a 400 "
        "(status_transition_refused); confirming twice is a 409.",
    )
    def post(self, request, pk: int):
        actor, reservation = _reservation(request, pk, "edit")
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        action, reason = data.validated_data["action"], data.validated_data.get("reason", "")
        if action == "confirm":
            changed = reservation_confirm(reservation=reservation, actor=actor)
        elif action == "cancel":
            changed = reservation_cancel(reservation=reservation, actor=actor, reason=reason)
        else:
            changed = reservation_status_change(
                reservation=reservation, status=TARGETS[action], actor=actor, reason=reason
            )
        return Response(StatusOutput(changed).data)
