"""The loyalty programme through the API (module ``loyalty``; API keys need
``loyalty:read`` / ``loyalty:write``):

    GET, PATCH /api/v1/loyalty/programme/                   settings and tiers (admins)
    POST       /api/v1/loyalty/tiers/, PATCH .../tiers/{key}/
    GET, POST  /api/v1/loyalty/members/                     {"guest": 12} enrols
    GET        /api/v1/loyalty/members/{id}/
    GET        /api/v1/loyalty/members/{id}/statement/?start=2026-01-01&end=2026-03-31
    GET, POST  /api/v1/loyalty/ledger/?member=7             {"member", "points", "reason"}
    GET, POST  /api/v1/loyalty/rewards/
    GET, POST  /api/v1/loyalty/redemptions/?member=7        {"member", "reward", ...}
    GET        /api/v1/loyalty/redemptions/{id}/
    POST       /api/v1/loyalty/redemptions/{id}/confirm/
    POST       /api/v1/loyalty/redemptions/{id}/cancel/     {"reason": "..."}

Each view parses its input, asks the principal for the right first (a refusal is a 403
before any 400 or 404), calls one selector or service and renders what the principal
may see (``actor.mask_many``). Errors are the house's ``{"errors": [...]}``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm.loyalty.apps import MODULE
from crm.loyalty.models import LedgerEntry, Member, Programme, Redemption, Reward, Tier
from crm.loyalty.selectors import (
    ledger_list,
    member_get,
    member_statement,
    members_list,
    redemption_get,
    redemptions_list,
    reward_get,
    rewards_list,
    tiers_list,
)
from crm.loyalty.services.ledger import Source, points_adjust, programme_current
from crm.loyalty.services.members import member_enrol
from crm.loyalty.services.programme import programme_update, tier_create, tier_update
from crm.loyalty.services.redemptions import (
    redemption_cancel,
    redemption_confirm,
    redemption_reserve,
    reward_create,
)
from metadata.selectors.records import record_for
from saas.api.modules import PAGE_PARAMS, ModuleApi
from saas.api.modules import body_valid as _valid
from saas.api.modules import error_responses as _errors
from saas.api.modules import id_field as _id
from saas.api.modules import int_param as _int_param
from saas.api.modules import page_of as _page_of
from saas.api.modules import path_id as _pk
from saas.api.serializers import FullDateField, StrictSerializer
from tenants.errors import NotFound

# --- representations ------------------------------------------------------------------


def _day(value) -> str | None:
    return value.isoformat() if value else None


def member_as_dict(member: Member, *, with_guest_name: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": member.pk,
        "number": member.number,
        "guest": member.guest_id,
        "status": member.status,
        "tier": {"key": member.tier.key, "name": str(member.tier.name), "rank": member.tier.rank}
        if member.tier
        else None,
        "tier_since": _day(member.tier_since),
        "balance": member.balance,
        "lifetime_points": member.lifetime_points,
        "qualifying_nights": member.qualifying_nights,
        "qualifying_stays": member.qualifying_stays,
        "qualifying_revenue": str(member.qualifying_revenue),
        "enrolled_at": member.enrolled_at,
        "updated": member.updated,
    }
    if with_guest_name:
        guest = member.guest
        out["guest_name"] = " ".join(p for p in (guest.given_name, guest.surname) if p)
    return out


def entry_as_dict(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "member": entry.member_id,
        "kind": entry.kind,
        "source": entry.source,
        "points": entry.points,
        "remaining": entry.remaining,
        "expires_on": _day(entry.expires_on),
        "stay_on": _day(entry.stay_on),
        "nights": entry.nights,
        "revenue": str(entry.revenue),
        "reservation_id": entry.reservation_id,
        "redemption": entry.redemption_id,
        "reverses": entry.reverses_id,
        "actor": {"user_id": entry.actor_user_id, "label": entry.actor_label},
        "reason": entry.reason,
        "details": entry.details,
        "created_at": entry.created_at,
    }


def tier_as_dict(tier: Tier) -> dict[str, Any]:
    return {
        "key": tier.key,
        "name": str(tier.name),
        "rank": tier.rank,
        "min_nights": tier.min_nights,
        "min_stays": tier.min_stays,
        "min_revenue": str(tier.min_revenue),
        "earn_multiplier": str(tier.earn_multiplier),
        "benefits": str(tier.benefits or ""),
        "flags": list(tier.flags or []),
    }


def programme_as_dict(programme: Programme, tiers) -> dict[str, Any]:
    return {
        "name": str(programme.name),
        "points_per_unit": str(programme.points_per_unit),
        "expiry_months": programme.expiry_months,
        "qualification_months": programme.qualification_months,
        "tiers": [tier_as_dict(t) for t in tiers],
    }


def reward_as_dict(reward: Reward) -> dict[str, Any]:
    return {
        "id": reward.pk,
        "key": reward.key,
        "name": str(reward.name),
        "kind": reward.kind,
        "description": str(reward.description or ""),
        "points": reward.points,
        "available_from": _day(reward.available_from),
        "available_until": _day(reward.available_until),
        "property_ids": list(reward.property_ids or []),
        "active": reward.active,
    }


def redemption_as_dict(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "member": redemption.member_id,
        "reward": redemption.reward_id,
        "points": redemption.points,
        "status": redemption.status,
        "property_id": redemption.property_id,
        "note": redemption.note,
        "reserved_at": redemption.reserved_at,
        "confirmed_at": redemption.confirmed_at,
        "cancelled_at": redemption.cancelled_at,
    }


# --- schemas (documentation: what the views above render) ------------------------------


class TierOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField()


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="Nine digits and a Luhn check digit")
    guest = serializers.IntegerField()
    guest_name = serializers.CharField(required=False, help_text="For readers of guests")
    status = serializers.ChoiceField(choices=Member.Status.choices)
    tier = TierOut(allow_null=True)
    tier_since = FullDateField(allow_null=True)
    balance = serializers.IntegerField()
    lifetime_points = serializers.IntegerField()
    qualifying_nights = serializers.IntegerField()
    qualifying_stays = serializers.IntegerField()
    qualifying_revenue = serializers.CharField(help_text="Base currency, as a decimal string")
    enrolled_at = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class StatementOut(serializers.Serializer):
    member = serializers.IntegerField()
    start = FullDateField()
    end = FullDateField()
    opening_balance = serializers.IntegerField()
    totals = serializers.DictField(
        child=serializers.IntegerField(), help_text="Points per kind of entry in the period"
    )
    closing_balance = serializers.IntegerField()
    entries = serializers.ListField(child=serializers.DictField())
    truncated = serializers.BooleanField(help_text="More than 1,000 entries: ask a shorter period")


class ActorOut(serializers.Serializer):
    user_id = serializers.IntegerField(allow_null=True)
    # Fields named like a serializer's own attributes: DRF takes them, the stubs do not.
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices)
    source = serializers.ChoiceField(choices=LedgerEntry.Source.choices)  # type: ignore[assignment]
    points = serializers.IntegerField()
    remaining = serializers.IntegerField()
    expires_on = FullDateField(allow_null=True)
    stay_on = FullDateField(allow_null=True)
    nights = serializers.IntegerField()
    revenue = serializers.CharField()
    reservation_id = serializers.IntegerField(allow_null=True)
    redemption = serializers.IntegerField(allow_null=True)
    reverses = serializers.IntegerField(allow_null=True)
    actor = ActorOut()
    reason = serializers.CharField(allow_blank=True)
    details = serializers.DictField()
    created_at = serializers.DateTimeField()


class TierSettingsOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField()
    min_nights = serializers.IntegerField()
    min_stays = serializers.IntegerField()
    min_revenue = serializers.CharField(help_text="Base currency, as a decimal string")
    earn_multiplier = serializers.CharField()
    benefits = serializers.CharField(allow_blank=True)
    flags = serializers.ListField(child=serializers.CharField())


class ProgrammeOut(serializers.Serializer):
    name = serializers.CharField()
    points_per_unit = serializers.CharField(help_text="Points per unit of the base currency")
    expiry_months = serializers.IntegerField(help_text="0: points never expire")
    qualification_months = serializers.IntegerField()
    tiers = TierSettingsOut(many=True)


class RewardOut(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Reward.Kind.choices)
    description = serializers.CharField(allow_blank=True)
    points = serializers.IntegerField()
    available_from = FullDateField(allow_null=True)
    available_until = FullDateField(allow_null=True)
    property_ids = serializers.ListField(child=serializers.IntegerField())
    active = serializers.BooleanField()


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField()
    reward = serializers.IntegerField()
    points = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Redemption.Status.choices)
    property_id = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    reserved_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


MEMBER_FILTER = OpenApiParameter("member", int, description="Only this member's")

# --- input ----------------------------------------------------------------------------


class EnrolIn(StrictSerializer):
    guest = _id()


class AdjustIn(StrictSerializer):
    member = _id()
    points = serializers.IntegerField(
        min_value=-10_000_000, max_value=10_000_000, help_text="Positive adds, negative takes"
    )
    reason = serializers.CharField(max_length=500)


_TRANSLATIONS = serializers.DictField(
    child=serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True)),
    required=False,
    help_text='{"zh-hans": {"name": "金卡"}}',
)


class ProgrammeIn(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    points_per_unit = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=Decimal(0), required=False
    )
    expiry_months = serializers.IntegerField(min_value=0, max_value=600, required=False)
    qualification_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    translations = _TRANSLATIONS


class TierIn(StrictSerializer):
    key = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    rank = serializers.IntegerField(min_value=0, max_value=100)
    min_nights = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    min_stays = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    min_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), required=False
    )
    earn_multiplier = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    benefits = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    flags = serializers.ListField(
        child=serializers.SlugField(max_length=40), required=False, max_length=50
    )
    translations = _TRANSLATIONS


class TierChange(TierIn):
    key = None  # type: ignore[assignment]
    name = serializers.CharField(max_length=100, required=False)
    rank = serializers.IntegerField(min_value=0, max_value=100, required=False)


class RewardIn(StrictSerializer):
    key = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Reward.Kind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    available_from = FullDateField(required=False, allow_null=True)
    available_until = FullDateField(required=False, allow_null=True)
    property_ids = serializers.ListField(child=_id(), required=False, max_length=500)
    active = serializers.BooleanField(required=False)


class ReserveIn(StrictSerializer):
    member = _id()
    reward = _id()
    property_id = _id(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CancelIn(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _text_param(request: Request, name: str) -> str | None:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    if len(raw) > 100 or "\x00" in raw:
        raise serializers.ValidationError({name: "Give a short text without NUL characters."})
    return raw


# --- views ----------------------------------------------------------------------------


class LoyaltyApi(ModuleApi):
    module = MODULE


class MemberListApi(LoyaltyApi):
    object_api_name = "loyalty_account"

    @extend_schema(
        operation_id="loyalty_members_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("tier", str, description="Tier key"),
            OpenApiParameter("guest", int, description="The member of this guest"),
            OpenApiParameter("number", str, description="Member number"),
        ],
        responses={200: _page_of("MemberPage", MemberOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        actor = self.actor
        queryset = members_list(actor=actor, tier=_text_param(request, "tier"))
        guest = _int_param(request, "guest")
        if guest is not None:
            queryset = queryset.filter(guest_id=guest)
        number = _text_param(request, "number")
        if number:
            queryset = queryset.filter(number=number)
        names = actor.can("guest", "view")
        return self.page(request, queryset, lambda m: member_as_dict(m, with_guest_name=names))

    @extend_schema(
        operation_id="loyalty_member_enrol",
        request=EnrolIn,
        responses={201: MemberOut, **_errors(400, 401, 403, 404, 409)},
        description="Enrol a guest (needs the create right on loyalty members).",
    )
    def post(self, request):
        actor = self.actor
        actor.require("loyalty_account", "create")
        values = _valid(EnrolIn, request)
        guest = record_for(actor=actor, object_api_name="guest", record_id=values["guest"])
        member = member_enrol(guest=guest, actor=actor)
        member = member_get(actor=actor, member_id=member.pk)
        return self.one(member_as_dict(member, with_guest_name=True), status=201)


class MemberDetailApi(LoyaltyApi):
    object_api_name = "loyalty_account"

    @extend_schema(
        operation_id="loyalty_member_retrieve", responses={200: MemberOut, **_errors(401, 403, 404)}
    )
    def get(self, request, pk: int):
        actor = self.actor
        member = member_get(actor=actor, member_id=_pk(pk))
        return self.one(member_as_dict(member, with_guest_name=actor.can("guest", "view")))


class StatementIn(serializers.Serializer):
    start = FullDateField()
    end = FullDateField()


class MemberStatementApi(LoyaltyApi):
    object_api_name = "loyalty_ledger"

    @extend_schema(
        operation_id="loyalty_member_statement",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
        ],
        responses={200: StatementOut, **_errors(400, 401, 403, 404)},
        description="The member's points for a period: opening balance, entries, totals "
        "per kind, closing balance (days in the hotel group's time zone).",
    )
    def get(self, request, pk: int):
        actor = self.actor
        actor.require("loyalty_ledger", "view")
        period = StatementIn(data=request.query_params)
        period.is_valid(raise_exception=True)
        statement = member_statement(
            actor=actor,
            member=member_get(actor=actor, member_id=_pk(pk)),
            start=period.validated_data["start"],
            end=period.validated_data["end"],
        )
        body = {
            **statement,
            "member": statement["member"].pk,
            "entries": actor.mask_many(
                "loyalty_ledger", [entry_as_dict(e) for e in statement["entries"]]
            ),
        }
        return Response(body)


class LedgerApi(LoyaltyApi):
    object_api_name = "loyalty_ledger"

    @extend_schema(
        operation_id="loyalty_ledger_list",
        parameters=[*PAGE_PARAMS, MEMBER_FILTER],
        responses={200: _page_of("LedgerPage", EntryOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        queryset = ledger_list(actor=self.actor, member_id=_int_param(request, "member"))
        return self.page(request, queryset, entry_as_dict)

    @extend_schema(
        operation_id="loyalty_ledger_adjust",
        request=AdjustIn,
        responses={201: EntryOut, **_errors(400, 401, 403, 404, 409)},
        description="A manual adjustment, with its reason (needs the create right on "
        "the ledger: administrators by default). Audited.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("loyalty_ledger", "create")
        values = _valid(AdjustIn, request)
        member = member_get(actor=actor, member_id=values["member"])
        source = Source.API if actor.scopes is not None else Source.STAFF
        entry = points_adjust(
            member=member,
            points=values["points"],
            reason=values["reason"],
            source=source,
            actor=actor,
        )
        return self.one(entry_as_dict(entry), status=201)


class RewardListApi(LoyaltyApi):
    object_api_name = "loyalty_reward"

    @extend_schema(
        operation_id="loyalty_rewards_list",
        parameters=[*PAGE_PARAMS, OpenApiParameter("active", bool)],
        responses={200: _page_of("RewardPage", RewardOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        active = request.query_params.get("active") in ("true", "1")
        return self.page(
            request, rewards_list(actor=self.actor, active_only=active), reward_as_dict
        )

    @extend_schema(
        operation_id="loyalty_reward_create",
        request=RewardIn,
        responses={201: RewardOut, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("loyalty_reward", "create")
        reward = reward_create(actor=actor, **_valid(RewardIn, request))
        return self.one(reward_as_dict(reward), status=201)


class RedemptionListApi(LoyaltyApi):
    object_api_name = "loyalty_redemption"

    @extend_schema(
        operation_id="loyalty_redemptions_list",
        parameters=[*PAGE_PARAMS, MEMBER_FILTER],
        responses={200: _page_of("RedemptionPage", RedemptionOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        queryset = redemptions_list(actor=self.actor, member_id=_int_param(request, "member"))
        return self.page(request, queryset, redemption_as_dict)

    @extend_schema(
        operation_id="loyalty_redemption_reserve",
        request=ReserveIn,
        responses={201: RedemptionOut, **_errors(400, 401, 403, 404, 409)},
        description="Reserve a reward: its points leave the balance at once (409 "
        "insufficient_points when there are not enough).",
    )
    def post(self, request):
        actor = self.actor
        actor.require("loyalty_redemption", "create")
        values = _valid(ReserveIn, request)
        redemption = redemption_reserve(
            member=member_get(actor=actor, member_id=values["member"]),
            reward=reward_get(actor=actor, reward_id=values["reward"]),
            property_id=values.get("property_id"),
            note=values.get("note") or "",
            actor=actor,
        )
        return self.one(redemption_as_dict(redemption), status=201)


class RedemptionDetailApi(LoyaltyApi):
    object_api_name = "loyalty_redemption"

    @extend_schema(
        operation_id="loyalty_redemption_retrieve",
        responses={200: RedemptionOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(redemption_as_dict(redemption_get(actor=self.actor, redemption_id=_pk(pk))))


class RedemptionConfirmApi(LoyaltyApi):
    object_api_name = "loyalty_redemption"

    @extend_schema(
        operation_id="loyalty_redemption_confirm",
        request=None,
        responses={200: RedemptionOut, **_errors(401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("loyalty_redemption", "edit")
        redemption = redemption_get(actor=actor, redemption_id=_pk(pk))
        return self.one(redemption_as_dict(redemption_confirm(redemption=redemption, actor=actor)))


class RedemptionCancelApi(LoyaltyApi):
    object_api_name = "loyalty_redemption"

    @extend_schema(
        operation_id="loyalty_redemption_cancel",
        request=CancelIn,
        responses={200: RedemptionOut, **_errors(400, 401, 403, 404, 409)},
        description="Cancel a reserved redemption: the points come back.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("loyalty_redemption", "edit")
        values = _valid(CancelIn, request)
        redemption = redemption_get(actor=actor, redemption_id=_pk(pk))
        cancelled = redemption_cancel(
            redemption=redemption, reason=values.get("reason") or "", actor=actor
        )
        return self.one(redemption_as_dict(cancelled))


class ProgrammeApi(LoyaltyApi):
    """The programme's settings and tiers: read by readers of members, changed by
    administrators (API keys also need ``admin:write``)."""

    object_api_name = "loyalty_account"

    def body(self) -> Response:
        return Response(programme_as_dict(programme_current(), tiers_list(actor=self.actor)))

    @extend_schema(
        operation_id="loyalty_programme_retrieve",
        responses={200: ProgrammeOut, **_errors(401, 403)},
    )
    def get(self, request):
        self.actor.require("loyalty_account", "view")
        return self.body()

    @extend_schema(
        operation_id="loyalty_programme_update",
        request=ProgrammeIn,
        responses={200: ProgrammeOut, **_errors(400, 401, 403)},
    )
    def patch(self, request):
        actor = self.actor
        actor.require("loyalty_account", "view")
        actor.require_admin("change the loyalty programme")
        values = _valid(ProgrammeIn, request)
        programme_update(actor=actor, **values)
        return self.body()


class TierListApi(LoyaltyApi):
    object_api_name = "loyalty_account"

    @extend_schema(
        operation_id="loyalty_tier_create",
        request=TierIn,
        responses={201: TierSettingsOut, **_errors(400, 401, 403, 409)},
        description="Add a tier (administrators). Members move at their next stay (up) "
        "or the nightly review.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("loyalty_account", "view")
        actor.require_admin("change the loyalty programme")
        tier = tier_create(actor=actor, **_valid(TierIn, request))
        return Response(tier_as_dict(tier), status=201)


class TierDetailApi(LoyaltyApi):
    object_api_name = "loyalty_account"

    @extend_schema(
        operation_id="loyalty_tier_update",
        request=TierChange,
        responses={200: TierSettingsOut, **_errors(400, 401, 403, 404, 409)},
    )
    def patch(self, request, key: str):
        actor = self.actor
        actor.require("loyalty_account", "view")
        actor.require_admin("change the loyalty programme")
        values = _valid(TierChange, request)
        tier = tiers_list(actor=actor).filter(key=key).first()
        if tier is None:
            raise NotFound(f"There is no tier {key!r}.", field="key")
        return Response(tier_as_dict(tier_update(tier=tier, actor=actor, **values)))
