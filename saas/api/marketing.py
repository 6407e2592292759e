"""The marketing module through the API (module ``marketing``; API keys need
``marketing:read`` / ``marketing:write``):

    GET, POST  /api/v1/offers/                              offers (a flash sale: a window)
    GET        /api/v1/offers/{id}/
    GET, POST  /api/v1/offers/{id}/codes/                   {"count": 500} or {"code", "max_uses"}
    POST       /api/v1/offers/validate/                     may this code apply? the discount
    POST       /api/v1/offers/redeem/                       use it once per reference
    GET, POST  /api/v1/marketing/segments/                  ?guest=12: the guest's segments
    POST       /api/v1/marketing/segments/count/            live count of a definition
    GET, PATCH, DELETE /api/v1/marketing/segments/{id}/
    GET, POST  /api/v1/marketing/segments/{id}/members/     POST picks guests (static lists)
    POST       /api/v1/marketing/segments/{id}/snapshot/    a static list of it, now
    GET, POST  /api/v1/marketing/templates/
    GET, PATCH /api/v1/marketing/templates/{id}/
    POST       /api/v1/marketing/templates/{id}/preview/    {"language", "guest"}
    POST       /api/v1/marketing/templates/{id}/test/       {"language", "to": [...]}
    GET, POST  /api/v1/marketing/campaigns/
    GET        /api/v1/marketing/campaigns/{id}/
    POST       /api/v1/marketing/campaigns/{id}/{schedule,pause,resume,cancel}/
    GET        /api/v1/marketing/campaigns/{id}/report/
    GET        /api/v1/marketing/campaigns/{id}/recipients/
    GET, POST  /api/v1/marketing/suppressions/              {"channel", "address"}

Each view asks the principal for the right first (a refusal is a 403 before any 400 or
404), calls one selector or service and renders what the principal may see. Errors are
the house's ``{"errors": [...]}``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response

from crm.marketing.apps import MODULE
from crm.marketing.models import (
    Campaign,
    EmailTemplate,
    Offer,
    PromoCode,
    Recipient,
    Segment,
    Suppression,
)
from crm.marketing.selectors import marketing as selectors
from crm.marketing.selectors.reports import campaign_report
from crm.marketing.selectors.segments import definition_guests, guest_segments, segment_guests
from crm.marketing.services import campaigns as campaign_services
from crm.marketing.services import delivery as delivery_services
from crm.marketing.services import offers as offer_services
from crm.marketing.services import segments as segment_services
from crm.marketing.services import templates as template_services
from metadata.selectors.records import record_for
from saas.api.modules import PAGE_PARAMS, ModuleApi
from saas.api.modules import body_valid as _valid
from saas.api.modules import error_responses as _errors
from saas.api.modules import id_field as _id
from saas.api.modules import int_param as _int_param
from saas.api.modules import page_of as _page_of
from saas.api.modules import path_id as _pk
from saas.api.serializers import StrictSerializer

# --- representations ------------------------------------------------------------------


def offer_as_dict(offer: Offer, *, codes: int | None = None) -> dict[str, Any]:
    return {
        "id": offer.pk,
        "key": offer.key,
        "name": offer.name,
        "description": offer.description,
        "starts_at": offer.starts_at,
        "ends_at": offer.ends_at,
        "property_ids": list(offer.property_ids),
        "rate_plan_ids": list(offer.rate_plan_ids),
        "discount_kind": offer.discount_kind,
        "discount_value": f"{offer.discount_value.normalize():f}",
        "currency": offer.currency,
        "active": offer.active,
        "codes": codes if codes is not None else getattr(offer, "code_count", 0),
        "created_at": offer.created_at,
    }


def code_as_dict(code: PromoCode) -> dict[str, Any]:
    return {
        "id": code.pk,
        "code": code.code,
        "kind": code.kind,
        "max_uses": code.max_uses,
        "uses": code.uses,
        "campaign": code.campaign_id,
    }


def segment_as_dict(segment: Segment, *, count: int | None = None) -> dict[str, Any]:
    out = {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "definition": segment.definition,
        "include": list(segment.include),
        "exclude": list(segment.exclude),
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }
    if count is not None:
        out["count"] = count
    return out


def template_as_dict(template: EmailTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "key": template.key,
        "name": template.name,
        "contents": template_services.template_contents(template),
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def campaign_as_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "channel": campaign.channel,
        "status": campaign.status,
        "segment": campaign.segment_id,
        "template": campaign.template_id,
        "offer": campaign.offer_id,
        "scheduled_at": campaign.scheduled_at,
        "started_at": campaign.started_at,
        "finished_at": campaign.finished_at,
        "frequency_cap_days": campaign.frequency_cap_days,
        "holdout_percent": campaign.holdout_percent,
        "attribution_days": campaign.attribution_days,
        "created_at": campaign.created_at,
    }


def recipient_as_dict(recipient: Recipient) -> dict[str, Any]:
    return {
        "id": recipient.pk,
        "guest": recipient.guest_id,
        "variant": recipient.variant,
        "status": recipient.status,
        "reason": recipient.reason,
        "language": recipient.language,
        "sent_at": recipient.sent_at,
        "opened_at": recipient.opened_at,
        "clicked_at": recipient.clicked_at,
    }


# --- schemas ----------------------------------------------------------------------------


class OfferOut(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    property_ids = serializers.ListField(child=serializers.IntegerField())
    rate_plan_ids = serializers.ListField(child=serializers.IntegerField())
    discount_kind = serializers.ChoiceField(choices=Offer.DiscountKind.choices)
    discount_value = serializers.CharField(help_text="Percent, or the amount as a decimal")
    currency = serializers.CharField(allow_blank=True, help_text="ISO 4217 for an amount")
    active = serializers.BooleanField()
    codes = serializers.IntegerField(help_text="How many codes the offer has")
    created_at = serializers.DateTimeField()


class CodeOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=PromoCode.Kind.choices)
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()
    campaign = serializers.IntegerField(allow_null=True)


class QuoteOut(serializers.Serializer):
    valid = serializers.BooleanField()
    code = serializers.CharField()
    offer = serializers.CharField(help_text="The offer's key")
    discount = serializers.CharField(help_text="On the amount given, as a decimal")
    currency = serializers.CharField(allow_blank=True)


class CodeRedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    reference = serializers.CharField()
    discount = serializers.CharField()
    currency = serializers.CharField(allow_blank=True)
    redeemed_at = serializers.DateTimeField()
    repeated = serializers.BooleanField(help_text="An earlier call redeemed this reference")


class SegmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Segment.Kind.choices)
    definition = serializers.DictField()
    include = serializers.ListField(child=serializers.IntegerField())
    exclude = serializers.ListField(child=serializers.IntegerField())
    count = serializers.IntegerField(required=False, help_text="Members now (one segment)")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CountOut(serializers.Serializer):
    count = serializers.IntegerField()


class SegmentMemberOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The guest's id")
    name = serializers.CharField(required=False, help_text="For readers of guests")


class TemplateOut(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    contents = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        help_text='{"en": {"subject", "preheader", "body"}}',
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PreviewOut(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    html = serializers.CharField()


class SentOut(serializers.Serializer):
    sent = serializers.IntegerField()


class CampaignOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices)
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    segment = serializers.IntegerField()
    template = serializers.IntegerField()
    offer = serializers.IntegerField(allow_null=True)
    scheduled_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    frequency_cap_days = serializers.IntegerField()
    holdout_percent = serializers.IntegerField()
    attribution_days = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class CampaignReportOut(serializers.Serializer):
    campaign = serializers.IntegerField()
    status = serializers.CharField()
    base_currency = serializers.CharField()
    attribution_days = serializers.IntegerField()
    ab_winner = serializers.CharField(allow_blank=True)
    groups = serializers.DictField(
        child=serializers.DictField(),
        help_text="Per variant (a, b, control, waiting, codes): recipients, statuses, "
        "opened, clicked, converted_guests, reservations, redemptions, revenue (base "
        "currency), conversion_rate",
    )


class RecipientOut(serializers.Serializer):
    id = serializers.IntegerField()
    guest = serializers.IntegerField()
    variant = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Recipient.Status.choices)
    reason = serializers.CharField(allow_blank=True)
    language = serializers.CharField(allow_blank=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    clicked_at = serializers.DateTimeField(allow_null=True)


# --- input ----------------------------------------------------------------------------


class OfferIn(StrictSerializer):
    key = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    property_ids = serializers.ListField(child=_id(), required=False, max_length=500)
    rate_plan_ids = serializers.ListField(child=_id(), required=False, max_length=500)
    discount_kind = serializers.ChoiceField(choices=Offer.DiscountKind.choices)
    discount_value = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal("0.001")
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class CodesIn(StrictSerializer):
    count = serializers.IntegerField(
        min_value=1, max_value=offer_services.MAX_BULK, required=False,
        help_text="Generate this many single-use codes",
    )  # fmt: skip
    prefix = serializers.CharField(max_length=20, required=False, allow_blank=True)
    length = serializers.IntegerField(min_value=6, max_value=20, required=False)
    code = serializers.CharField(
        max_length=40, required=False, help_text="Or: one shared code with this text"
    )
    max_uses = serializers.IntegerField(
        min_value=1, max_value=10**9, required=False, allow_null=True
    )

    def validate(self, attrs):
        if ("count" in attrs) == ("code" in attrs):
            raise serializers.ValidationError(
                {"count": "Give count (single-use codes) or code (a shared code)."}
            )
        return attrs


class CheckIn(StrictSerializer):
    code = serializers.CharField(max_length=60)
    property_id = _id(required=False, allow_null=True)
    rate_plan_id = _id(required=False, allow_null=True)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal(0), required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)


class RedeemIn(CheckIn):
    reference = serializers.CharField(
        max_length=100, help_text="The booking's reference: a repeated call redeems once"
    )
    guest = _id(required=False, allow_null=True)
    reservation_id = _id(required=False, allow_null=True)


class SegmentIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Segment.Kind.choices, required=False)
    definition = serializers.DictField(required=False, help_text="Dynamic segments' conditions")
    include = serializers.ListField(child=_id(), required=False, max_length=50)
    exclude = serializers.ListField(child=_id(), required=False, max_length=50)
    guest_ids = serializers.ListField(
        child=_id(), required=False, max_length=10_000, help_text="A static list's members"
    )


class SegmentChange(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    definition = serializers.DictField(required=False)
    include = serializers.ListField(child=_id(), required=False, max_length=50)
    exclude = serializers.ListField(child=_id(), required=False, max_length=50)


class DefinitionIn(StrictSerializer):
    definition = serializers.DictField()


class PickIn(StrictSerializer):
    guest_ids = serializers.ListField(child=_id(), min_length=1, max_length=10_000)


class SnapshotIn(StrictSerializer):
    name = serializers.CharField(max_length=200)


_CONTENTS = serializers.DictField(
    child=serializers.DictField(child=serializers.CharField(max_length=100_000, allow_blank=True)),
    help_text='{"en": {"subject": "...", "preheader": "...", "body": "..."}, "zh-hans": {...}}',
)


class TemplateIn(StrictSerializer):
    key = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=200)
    contents = _CONTENTS


class TemplateChange(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    contents = serializers.DictField(
        child=serializers.DictField(
            child=serializers.CharField(max_length=100_000, allow_blank=True)
        ),
        required=False,
    )
    remove_languages = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=20
    )


class PreviewIn(StrictSerializer):
    language = serializers.CharField(max_length=10)
    guest = _id(required=False, allow_null=True, help_text="A sample guest")


class TestSendIn(PreviewIn):
    to = serializers.ListField(
        child=serializers.EmailField(), min_length=1, max_length=5, help_text="Staff addresses"
    )


class CampaignIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices, required=False)
    segment = _id()
    template = _id()
    offer = _id(required=False, allow_null=True)
    subject_b = serializers.DictField(
        child=serializers.CharField(max_length=300), required=False,
        help_text='A/B: subject B per language {"en": "..."}',
    )  # fmt: skip
    ab_sample_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    ab_wait_minutes = serializers.IntegerField(min_value=1, max_value=10_080, required=False)
    holdout_percent = serializers.IntegerField(min_value=0, max_value=50, required=False)
    frequency_cap_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    attribution_days = serializers.IntegerField(min_value=1, max_value=365, required=False)


class ScheduleIn(StrictSerializer):
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="With its offset; empty: now"
    )


# --- views ------------------------------------------------------------------------------


class MarketingApi(ModuleApi):
    module = MODULE


class OfferListApi(MarketingApi):
    object_api_name = "offer"

    @extend_schema(
        operation_id="offers_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("OfferPage", OfferOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        return self.page(request, selectors.offers_list(actor=self.actor), offer_as_dict)

    @extend_schema(
        operation_id="offer_create",
        request=OfferIn,
        responses={201: OfferOut, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("offer", "create")
        offer = offer_services.offer_create(actor=actor, **_valid(OfferIn, request))
        return self.one(offer_as_dict(offer, codes=0), status=201)


class OfferDetailApi(MarketingApi):
    object_api_name = "offer"

    @extend_schema(
        operation_id="offer_retrieve", responses={200: OfferOut, **_errors(401, 403, 404)}
    )
    def get(self, request, pk: int):
        return self.one(offer_as_dict(selectors.offer_get(actor=self.actor, offer_id=_pk(pk))))


class OfferCodesApi(MarketingApi):
    object_api_name = "offer"

    @extend_schema(
        operation_id="offer_codes_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("CodePage", CodeOut), **_errors(400, 401, 403, 404)},
    )
    def get(self, request, pk: int):
        offer = selectors.offer_get(actor=self.actor, offer_id=_pk(pk))
        return self.page(request, offer.codes.order_by("pk"), code_as_dict)

    @extend_schema(
        operation_id="offer_codes_create",
        request=CodesIn,
        responses={201: _page_of("NewCodes", CodeOut), **_errors(400, 401, 403, 404, 409)},
        description="Generate single-use codes in bulk (count, prefix, length) or add "
        "one shared code with an optional cap on its uses (code, max_uses).",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("offer", "edit")
        values = _valid(CodesIn, request)
        offer = selectors.offer_get(actor=actor, offer_id=_pk(pk))
        if "count" in values:
            codes = offer_services.codes_generate(
                offer=offer,
                count=values["count"],
                prefix=values.get("prefix") or "",
                length=values.get("length") or 10,
                actor=actor,
            )
        else:
            codes = [
                offer_services.code_create_shared(
                    offer=offer, code=values["code"], max_uses=values.get("max_uses"), actor=actor
                )
            ]
        rows = actor.mask_many("offer", [code_as_dict(c) for c in codes])
        return Response({"results": rows, "next": None}, status=201)


def _quote_dict(quote) -> dict[str, Any]:
    return {
        "valid": True,
        "code": quote.code.code,
        "offer": quote.code.offer.key,
        "discount": str(quote.discount),
        "currency": quote.currency,
    }


class OfferValidateApi(MarketingApi):
    object_api_name = "offer"

    @extend_schema(
        operation_id="offer_validate",
        request=CheckIn,
        responses={200: QuoteOut, **_errors(400, 401, 403, 404, 409)},
        description="Whether a promo code applies to a booking (hotel, rate plan, now "
        "within the offer's window, uses left) and the discount it gives on the amount. "
        "404 for an unknown code; 409 with the reason as the code (not_started, expired, "
        "used_up, wrong_hotel, wrong_rate_plan, wrong_currency, offer_inactive).",
    )
    def post(self, request):
        actor = self.actor
        actor.require("offer", "view")
        values = _valid(CheckIn, request)
        return Response(_quote_dict(offer_services.code_check(actor=actor, **values)))


class OfferRedeemApi(MarketingApi):
    object_api_name = "offer"

    @extend_schema(
        operation_id="offer_redeem",
        request=RedeemIn,
        responses={
            201: CodeRedemptionOut,
            200: OpenApiResponse(
                CodeRedemptionOut, description="This reference was redeemed before"
            ),
            **_errors(400, 401, 403, 404, 409),
        },
        description="Use a promo code once for a booking. Idempotent: the same reference "
        "(or the same Idempotency-Key header) answers with the first redemption and "
        "counts once. A code's cap holds however many callers race for it.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("offer", "edit")
        values = _valid(RedeemIn, request)
        guest_id = values.pop("guest", None)
        if guest_id is not None:
            record_for(actor=actor, object_api_name="guest", record_id=guest_id)
        redemption, created = offer_services.code_redeem(actor=actor, guest_id=guest_id, **values)
        body = {
            "id": redemption.pk,
            "code": redemption.code.code,
            "reference": redemption.reference,
            "discount": str(redemption.discount),
            "currency": redemption.currency,
            "redeemed_at": redemption.redeemed_at,
            "repeated": not created,
        }
        return Response(body, status=201 if created else 200)


class SegmentListApi(MarketingApi):
    object_api_name = "segment"

    @extend_schema(
        operation_id="marketing_segments_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("guest", int, description="Segments of a guest"),
        ],
        responses={200: _page_of("SegmentPage", SegmentOut), **_errors(400, 401, 403, 404)},
    )
    def get(self, request):
        actor = self.actor
        guest = _int_param(request, "guest")
        if guest is None:
            return self.page(request, selectors.segments_list(actor=actor), segment_as_dict)
        record_for(actor=actor, object_api_name="guest", record_id=guest)
        rows = [segment_as_dict(s) for s in guest_segments(actor=actor, guest_id=guest)]
        return Response({"results": actor.mask_many("segment", rows), "next": None})

    @extend_schema(
        operation_id="marketing_segment_create",
        request=SegmentIn,
        responses={201: SegmentOut, **_errors(400, 401, 403)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("segment", "create")
        segment = segment_services.segment_create(actor=actor, **_valid(SegmentIn, request))
        count = segment_guests(actor=actor, segment=segment).count()
        return self.one(segment_as_dict(segment, count=count), status=201)


class SegmentCountApi(MarketingApi):
    object_api_name = "segment"

    @extend_schema(
        operation_id="marketing_segment_count",
        request=DefinitionIn,
        responses={200: CountOut, **_errors(400, 401, 403)},
        description="How many guests a definition matches now (the condition editor's "
        "live count); nothing is saved.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("segment", "view")
        values = _valid(DefinitionIn, request)
        return Response(
            {"count": definition_guests(actor=actor, definition=values["definition"]).count()}
        )


class SegmentDetailApi(MarketingApi):
    object_api_name = "segment"

    @extend_schema(
        operation_id="marketing_segment_retrieve",
        responses={200: SegmentOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        actor = self.actor
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        count = segment_guests(actor=actor, segment=segment).count()
        return self.one(segment_as_dict(segment, count=count))

    @extend_schema(
        operation_id="marketing_segment_update",
        request=SegmentChange,
        responses={200: SegmentOut, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request, pk: int):
        actor = self.actor
        actor.require("segment", "edit")
        values = _valid(SegmentChange, request)
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        segment = segment_services.segment_update(segment=segment, actor=actor, **values)
        return self.one(segment_as_dict(segment))

    @extend_schema(
        operation_id="marketing_segment_delete",
        responses={204: None, **_errors(401, 403, 404, 409)},
    )
    def delete(self, request, pk: int):
        actor = self.actor
        actor.require("segment", "delete")
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        segment_services.segment_delete(segment=segment, actor=actor)
        return Response(status=204)


class SegmentMembersApi(MarketingApi):
    object_api_name = "segment"

    @extend_schema(
        operation_id="marketing_segment_members",
        parameters=PAGE_PARAMS,
        responses={
            200: _page_of("SegmentMemberPage", SegmentMemberOut),
            **_errors(400, 401, 403, 404),
        },
        description="The segment's guests now (ids; names for readers of guests).",
    )
    def get(self, request, pk: int):
        actor = self.actor
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        names = actor.can("guest", "view") and actor.field_level("guest", "surname") != "hidden"
        queryset = segment_guests(actor=actor, segment=segment)

        def render(guest) -> dict[str, Any]:
            return {"id": guest.pk, **({"name": guest.full_name} if names else {})}

        return self.page(request, queryset, render)

    @extend_schema(
        operation_id="marketing_segment_members_add",
        request=PickIn,
        responses={200: CountOut, **_errors(400, 401, 403, 404)},
        description="Add picked guests to a static list; answers how many were new.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("segment", "edit")
        values = _valid(PickIn, request)
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        added = segment_services.static_members_add(
            segment=segment, guest_ids=values["guest_ids"], actor=actor
        )
        return Response({"count": added})


class SegmentSnapshotApi(MarketingApi):
    object_api_name = "segment"

    @extend_schema(
        operation_id="marketing_segment_snapshot",
        request=SnapshotIn,
        responses={201: SegmentOut, **_errors(400, 401, 403, 404)},
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("segment", "create")
        values = _valid(SnapshotIn, request)
        segment = selectors.segment_get(actor=actor, segment_id=_pk(pk))
        snapshot = segment_services.segment_snapshot(
            segment=segment, name=values["name"], actor=actor
        )
        count = segment_guests(actor=actor, segment=snapshot).count()
        return self.one(segment_as_dict(snapshot, count=count), status=201)


class TemplateListApi(MarketingApi):
    object_api_name = "marketing_template"

    @extend_schema(
        operation_id="marketing_templates_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("TemplatePage", TemplateOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        return self.page(request, selectors.templates_list(actor=self.actor), template_as_dict)

    @extend_schema(
        operation_id="marketing_template_create",
        request=TemplateIn,
        responses={201: TemplateOut, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("marketing_template", "create")
        template = template_services.template_create(actor=actor, **_valid(TemplateIn, request))
        return self.one(template_as_dict(template), status=201)


class TemplateDetailApi(MarketingApi):
    object_api_name = "marketing_template"

    @extend_schema(
        operation_id="marketing_template_retrieve",
        responses={200: TemplateOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(
            template_as_dict(selectors.template_get(actor=self.actor, template_id=_pk(pk)))
        )

    @extend_schema(
        operation_id="marketing_template_update",
        request=TemplateChange,
        responses={200: TemplateOut, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request, pk: int):
        actor = self.actor
        actor.require("marketing_template", "edit")
        values = _valid(TemplateChange, request)
        template = selectors.template_get(actor=actor, template_id=_pk(pk))
        template = template_services.template_update(template=template, actor=actor, **values)
        return self.one(template_as_dict(template))


def _sample_guest(actor, guest_id: int | None):
    if guest_id is None:
        return None
    return record_for(actor=actor, object_api_name="guest", record_id=guest_id)


class TemplatePreviewApi(MarketingApi):
    object_api_name = "marketing_template"

    @extend_schema(
        operation_id="marketing_template_preview",
        request=PreviewIn,
        responses={200: PreviewOut, **_errors(400, 401, 403, 404)},
        description="The template in one language, merged with a sample guest's values "
        "(those the caller may read): subject, plain text and HTML.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("marketing_template", "view")
        values = _valid(PreviewIn, request)
        template = selectors.template_get(actor=actor, template_id=_pk(pk))
        rendered = template_services.template_preview(
            template=template,
            language=values["language"],
            guest=_sample_guest(actor, values.get("guest")),
            actor=actor,
        )
        return Response({"subject": rendered.subject, "text": rendered.text, "html": rendered.html})


class TemplateTestApi(MarketingApi):
    object_api_name = "marketing_template"

    @extend_schema(
        operation_id="marketing_template_test_send",
        request=TestSendIn,
        responses={200: SentOut, **_errors(400, 401, 403, 404)},
        description="Send the preview to up to five staff addresses, marked [TEST].",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("marketing_template", "edit")
        values = _valid(TestSendIn, request)
        template = selectors.template_get(actor=actor, template_id=_pk(pk))
        sent = template_services.template_test_send(
            template=template,
            language=values["language"],
            to=values["to"],
            guest=_sample_guest(actor, values.get("guest")),
            actor=actor,
        )
        return Response({"sent": sent})


class CampaignListApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_campaigns_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("CampaignPage", CampaignOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        return self.page(request, selectors.campaigns_list(actor=self.actor), campaign_as_dict)

    @extend_schema(
        operation_id="marketing_campaign_create",
        request=CampaignIn,
        responses={201: CampaignOut, **_errors(400, 401, 403, 404)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("campaign", "create")
        values = _valid(CampaignIn, request)
        values["segment"] = selectors.segment_get(actor=actor, segment_id=values["segment"])
        values["template"] = selectors.template_get(actor=actor, template_id=values["template"])
        if values.get("offer"):
            values["offer"] = selectors.offer_get(actor=actor, offer_id=values["offer"])
        campaign = campaign_services.campaign_create(actor=actor, **values)
        return self.one(campaign_as_dict(campaign), status=201)


class CampaignDetailApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_campaign_retrieve",
        responses={200: CampaignOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(
            campaign_as_dict(selectors.campaign_get(actor=self.actor, campaign_id=_pk(pk)))
        )


class CampaignScheduleApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_campaign_schedule",
        request=ScheduleIn,
        responses={200: CampaignOut, **_errors(400, 401, 403, 404, 409)},
        description="Send at a time (with its offset) or now; 409 campaign_state unless "
        "a draft or scheduled.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("campaign", "edit")
        values = _valid(ScheduleIn, request)
        campaign = selectors.campaign_get(actor=actor, campaign_id=_pk(pk))
        campaign = campaign_services.campaign_schedule(
            campaign=campaign, actor=actor, at=values.get("at")
        )
        return self.one(campaign_as_dict(campaign))


class _CampaignStateApi(MarketingApi):
    object_api_name = "campaign"

    def change(self, pk: int, service) -> Response:
        actor = self.actor
        actor.require("campaign", "edit")
        campaign = selectors.campaign_get(actor=actor, campaign_id=_pk(pk))
        return self.one(campaign_as_dict(service(campaign=campaign, actor=actor)))


_STATE_RESPONSES = {200: CampaignOut, **_errors(401, 403, 404, 409)}


class CampaignPauseApi(_CampaignStateApi):
    @extend_schema(
        operation_id="marketing_campaign_pause",
        request=None,
        responses=_STATE_RESPONSES,
        description="Stop sending; queued recipients wait (409 campaign_state).",
    )
    def post(self, request, pk: int):
        return self.change(pk, campaign_services.campaign_pause)


class CampaignResumeApi(_CampaignStateApi):
    @extend_schema(
        operation_id="marketing_campaign_resume",
        request=None,
        responses=_STATE_RESPONSES,
        description="Go on after a pause (409 campaign_state).",
    )
    def post(self, request, pk: int):
        return self.change(pk, campaign_services.campaign_resume)


class CampaignCancelApi(_CampaignStateApi):
    @extend_schema(
        operation_id="marketing_campaign_cancel",
        request=None,
        responses=_STATE_RESPONSES,
        description="Send nothing more; queued recipients are skipped (409 campaign_state).",
    )
    def post(self, request, pk: int):
        return self.change(pk, campaign_services.campaign_cancel)


class CampaignReportApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_campaign_report",
        responses={200: CampaignReportOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        actor = self.actor
        campaign = selectors.campaign_get(actor=actor, campaign_id=_pk(pk))
        return Response(campaign_report(actor=actor, campaign=campaign))


class CampaignRecipientsApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_campaign_recipients",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("RecipientPage", RecipientOut), **_errors(400, 401, 403, 404)},
        description="Each recipient's status (queued, sent, delivered, bounced, opened, "
        "clicked, unsubscribed, skipped with the reason, control).",
    )
    def get(self, request, pk: int):
        actor = self.actor
        campaign = selectors.campaign_get(actor=actor, campaign_id=_pk(pk))
        return self.page(request, campaign.recipients.order_by("pk"), recipient_as_dict)


def suppression_as_dict(suppression: Suppression) -> dict[str, Any]:
    return {
        "id": suppression.pk,
        "channel": suppression.channel,
        "address": suppression.address,
        "reason": suppression.reason,
        "created_at": suppression.created_at,
    }


class SuppressionOut(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices)
    address = serializers.CharField()
    reason = serializers.ChoiceField(choices=Suppression.Reason.choices)
    created_at = serializers.DateTimeField()


class SuppressionIn(StrictSerializer):
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices)
    address = serializers.CharField(max_length=254)


class SuppressionListApi(MarketingApi):
    object_api_name = "campaign"

    @extend_schema(
        operation_id="marketing_suppressions_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("channel", str, enum=["email", "sms"], description="Only this"),
        ],
        responses={200: _page_of("SuppressionPage", SuppressionOut), **_errors(400, 401, 403)},
        description="Addresses no campaign reaches: bounced, complained, unsubscribed, "
        "or added by staff. Keyed by address, so they outlive a guest's profile.",
    )
    def get(self, request):
        channel = request.query_params.get("channel") or ""
        if channel not in ("", "email", "sms"):
            raise serializers.ValidationError({"channel": "The channel is email or sms."})
        queryset = selectors.suppressions_list(actor=self.actor, channel=channel)
        return self.page(request, queryset, suppression_as_dict)

    @extend_schema(
        operation_id="marketing_suppression_add",
        request=SuppressionIn,
        responses={201: SuppressionOut, **_errors(400, 401, 403)},
    )
    def post(self, request):
        actor = self.actor
        actor.require("campaign", "edit")
        values = _valid(SuppressionIn, request)
        suppression = delivery_services.suppression_add(actor=actor, **values)
        return self.one(suppression_as_dict(suppression), status=201)
