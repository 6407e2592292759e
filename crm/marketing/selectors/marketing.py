"""Reads of offers, segments, templates and campaigns, each asking the principal (object
right, module on); a lookup answers the same 404 whether the row does not exist or is
out of reach."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from crm.marketing.models import Campaign, EmailTemplate, Offer, Segment, Suppression
from tenants.access.principal import Principal
from tenants.errors import NotFound


def offers_list(*, actor: Principal) -> QuerySet[Offer]:
    actor.require("offer", "view")
    return Offer.objects.annotate(code_count=Count("codes")).order_by("-created_at", "-pk")


def offer_get(*, actor: Principal, offer_id: int) -> Offer:
    found = offers_list(actor=actor).filter(pk=offer_id).first()
    if found is None:
        raise NotFound("There is no such offer.", field="offer")
    return found


def segments_list(*, actor: Principal) -> QuerySet[Segment]:
    actor.require("segment", "view")
    return Segment.objects.order_by("name", "pk")


def segment_get(*, actor: Principal, segment_id: int) -> Segment:
    found = segments_list(actor=actor).filter(pk=segment_id).first()
    if found is None:
        raise NotFound("There is no such segment.", field="segment")
    return found


def templates_list(*, actor: Principal) -> QuerySet[EmailTemplate]:
    actor.require("marketing_template", "view")
    return EmailTemplate.objects.order_by("name", "pk")


def template_get(*, actor: Principal, template_id: int) -> EmailTemplate:
    found = templates_list(actor=actor).filter(pk=template_id).first()
    if found is None:
        raise NotFound("There is no such template.", field="template")
    return found


def campaigns_list(*, actor: Principal) -> QuerySet[Campaign]:
    actor.require("campaign", "view")
    return Campaign.objects.order_by("-created_at", "-pk")


def campaign_get(*, actor: Principal, campaign_id: int) -> Campaign:
    found = campaigns_list(actor=actor).select_related("offer").filter(pk=campaign_id).first()
    if found is None:
        raise NotFound("There is no such campaign.", field="campaign")
    return found


def suppressions_list(*, actor: Principal, channel: str = "") -> QuerySet[Suppression]:
    actor.require("campaign", "view")
    queryset = Suppression.objects.order_by("-created_at", "-pk")
    return queryset.filter(channel=channel) if channel else queryset
