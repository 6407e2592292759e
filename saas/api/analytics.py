"""The analytics module through the API (module ``analytics``; API keys need
``analytics:read``, and administrators' doors ``admin:read`` / ``admin:write``):

    GET         /api/v1/analytics/scores/?segment=at_risk&ordering=-churn_risk
    GET         /api/v1/analytics/scores/{guest_id}/        scores, reasons, next best offers
    GET, PATCH  /api/v1/analytics/churn-model/              versions and training reports
    POST        /api/v1/analytics/refresh/                  retrain and rescore now (admins)
    GET         /api/v1/analytics/reports/{name}/?start=2026-01-01&format=csv
    GET, POST   /api/v1/analytics/warnings/                 thresholds (admins set them)

Each view parses its input, asks the principal for the right first, calls one selector
or service and renders what the principal may see (``actor.mask``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from crm.analytics.apps import MODULE
from crm.analytics.models import (
    ChurnModel,
    ChurnSource,
    GuestScore,
    Lifecycle,
    Segment,
    WarningRule,
)
from crm.analytics.reports import MEASURES, NAMES, Filters, report_run
from crm.analytics.selectors import ORDERINGS, churn_models_list, score_get, scores_list
from crm.analytics.services.churn import settings_current, settings_update
from crm.analytics.services.runs import analytics_refresh_request
from crm.analytics.services.warnings import warning_rule_create
from crm.analytics.texts import lifecycle_label, reason_text, segment_label
from saas.api.modules import PAGE_PARAMS, ModuleApi
from saas.api.modules import body_valid as _valid
from saas.api.modules import error_responses as _errors
from saas.api.modules import page_of as _page_of
from saas.api.modules import path_id as _pk
from saas.api.renderers import FastJSONRenderer
from saas.api.serializers import FullDateField, StrictSerializer

# --- representations ------------------------------------------------------------------


def score_as_dict(score: GuestScore) -> dict[str, Any]:
    return {
        "guest": score.guest_id,
        "recency": score.recency,
        "frequency": score.frequency,
        "monetary": score.monetary,
        "segment": score.segment,
        "segment_label": segment_label(score.segment),
        "historical_value": str(score.historical_value),
        "currency": score.currency,
        "lifecycle": score.lifecycle,
        "lifecycle_label": lifecycle_label(score.lifecycle),
        "churn_risk": str(score.churn_risk) if score.churn_risk is not None else None,
        "churn_source": score.churn_source,
        "churn_reasons": [
            {**r, "text": reason_text(r["feature"], float(r["value"]))} for r in score.churn_reasons
        ],
        "churn_model_version": score.churn_model_version,
        "offers": score.offers,
        "computed_at": score.computed_at,
    }


def model_as_dict(model: ChurnModel) -> dict[str, Any]:
    return {
        "version": model.version,
        "status": model.status,
        "trained_at": model.trained_at,
        "cutoff": model.cutoff.isoformat(),
        "horizon_months": model.horizon_months,
        "training_size": model.training_size,
        "positives": model.positives,
        "report": model.report,
    }


def rule_as_dict(rule: WarningRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "measure": rule.measure,
        "property_id": rule.property_id,
        "channel": rule.channel,
        "market_code": rule.market_code,
        "comparison": rule.comparison,
        "threshold": str(rule.threshold),
        "window_days": rule.window_days,
        "min_vip_level": rule.min_vip_level,
        "active": rule.active,
    }


# --- schemas --------------------------------------------------------------------------


class ReasonOut(serializers.Serializer):
    feature = serializers.CharField()
    value = serializers.FloatField()
    weight = serializers.FloatField(allow_null=True, help_text="null for the rule")
    text = serializers.CharField(help_text="In the reader's language")


class OfferItemOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["hotel", "room_type", "rate_plan"])
    id = serializers.IntegerField()
    # Fields named like a serializer's own attributes: DRF takes them, the stubs do not.
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]


class NextOfferOut(OfferItemOut):
    score = serializers.FloatField(help_text="Summed cosine similarity to the guest's items")
    because = OfferItemOut(allow_null=True, help_text="The item the offer comes from most")


class ScoreOut(serializers.Serializer):
    guest = serializers.IntegerField()
    recency = serializers.IntegerField(allow_null=True, help_text="Quintile 1-5 (5: recent)")
    frequency = serializers.IntegerField(allow_null=True, help_text="Quintile 1-5")
    monetary = serializers.IntegerField(allow_null=True, help_text="Quintile 1-5")
    segment = serializers.ChoiceField(choices=[*Segment.values, ""])
    segment_label = serializers.CharField(allow_blank=True)
    historical_value = serializers.CharField(help_text="Base currency, as a decimal string")
    currency = serializers.CharField()
    lifecycle = serializers.ChoiceField(choices=Lifecycle.values)
    lifecycle_label = serializers.CharField()
    churn_risk = serializers.CharField(allow_null=True, help_text="0-1, as a decimal string")
    churn_source = serializers.ChoiceField(
        choices=[*ChurnSource.values, ""], help_text="rules: not enough data for a model"
    )
    churn_reasons = ReasonOut(many=True)
    churn_model_version = serializers.IntegerField(allow_null=True)
    offers = NextOfferOut(many=True)
    computed_at = serializers.DateTimeField()


class ModelOut(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ChurnModel.Status.values)
    trained_at = serializers.DateTimeField()
    cutoff = FullDateField()
    horizon_months = serializers.IntegerField()
    training_size = serializers.IntegerField()
    positives = serializers.IntegerField(help_text="Guests who churned")
    report = serializers.DictField(
        help_text="auc, baseline_auc, recency_auc, precision_top_decile, base_rate, "
        "calibration, feature_importances... or the reason there is not enough data"
    )


class ChurnOut(serializers.Serializer):
    churn_horizon_months = serializers.IntegerField()
    latest = ModelOut(allow_null=True)
    versions = ModelOut(many=True, help_text="The last 20, newest first")


class ChurnIn(StrictSerializer):
    churn_horizon_months = serializers.IntegerField(min_value=1, max_value=60)


class RefreshIn(StrictSerializer):
    train = serializers.BooleanField(required=False, help_text="Retrain first (default true)")


class RefreshOut(serializers.Serializer):
    queued = serializers.BooleanField()


class WarningRuleIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=WarningRule.Kind.values)
    measure = serializers.ChoiceField(
        choices=list(MEASURES), required=False, help_text="Report rules: the figure watched"
    )
    property_id = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, help_text="Report rules: the hotel"
    )
    channel = serializers.CharField(max_length=40, required=False, allow_blank=True)
    market_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    comparison = serializers.ChoiceField(
        choices=WarningRule.Comparison.values, required=False, help_text="Default: above"
    )
    threshold = serializers.DecimalField(max_digits=14, decimal_places=4)
    window_days = serializers.IntegerField(min_value=1, max_value=366, required=False)
    min_vip_level = serializers.IntegerField(min_value=0, max_value=100, required=False)


class WarningRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=WarningRule.Kind.values)
    measure = serializers.CharField(allow_blank=True)
    property_id = serializers.IntegerField(allow_null=True)
    channel = serializers.CharField(allow_blank=True)
    market_code = serializers.CharField(allow_blank=True)
    comparison = serializers.ChoiceField(choices=WarningRule.Comparison.values)
    threshold = serializers.CharField(help_text="A decimal string")
    window_days = serializers.IntegerField()
    min_vip_level = serializers.IntegerField()
    active = serializers.BooleanField()


class AnalyticsReportOut(serializers.Serializer):
    name = serializers.ChoiceField(choices=NAMES)
    filters = serializers.DictField()
    currency = serializers.CharField(help_text="Money columns are in this currency")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(), help_text="In column order")
    unconverted = serializers.IntegerField(
        help_text="Reservations left out of money columns: no exchange rate for their currency"
    )


class ReportFiltersIn(serializers.Serializer):
    start = FullDateField(required=False)
    end = FullDateField(required=False)
    property = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    channel = serializers.CharField(max_length=40, required=False)
    market_code = serializers.CharField(max_length=20, required=False)
    source = serializers.CharField(max_length=40, required=False)  # type: ignore[assignment]
    room_type = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    rate_plan = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    nationality = serializers.RegexField(r"^[A-Z]{2}$", required=False)
    segment = serializers.ChoiceField(choices=Segment.values, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)

    def validate(self, attrs):
        for name, value in attrs.items():
            if isinstance(value, str) and "\x00" in value:
                raise serializers.ValidationError({name: "Give text without NUL characters."})
        return attrs


REPORT_PARAMS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="Arrivals from this day"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Arrivals up to this day"),
    OpenApiParameter("property", int, description="Hotel id"),
    OpenApiParameter("channel", str),
    OpenApiParameter("market_code", str),
    OpenApiParameter("source", str, description="Source of business"),
    OpenApiParameter("room_type", int, description="Room type id"),
    OpenApiParameter("rate_plan", int, description="Rate plan id"),
    OpenApiParameter("nationality", str, description="ISO 3166 code, e.g. CN"),
    OpenApiParameter("segment", str, enum=Segment.values, description="RFM segment"),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv needs the export right"),
]


# --- views ----------------------------------------------------------------------------


def _choice(request: Request, name: str, choices) -> str | None:
    raw = request.query_params.get(name) or None
    if raw is not None and raw not in choices:
        raise serializers.ValidationError({name: f"Use one of {', '.join(choices)}."})
    return raw


def _risk(request: Request, name: str) -> Decimal | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or not 0 <= value <= 1:
        raise serializers.ValidationError({name: "Give a number from 0 to 1."})
    return value


class AnalyticsApi(ModuleApi):
    module = MODULE


class ScoreListApi(AnalyticsApi):
    object_api_name = "guest_score"

    @extend_schema(
        operation_id="analytics_scores_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("segment", str, enum=Segment.values),
            OpenApiParameter("lifecycle", str, enum=Lifecycle.values),
            OpenApiParameter("churn_source", str, enum=ChurnSource.values),
            OpenApiParameter("min_churn_risk", float, description="0-1"),
            OpenApiParameter("max_churn_risk", float, description="0-1"),
            OpenApiParameter(
                "ordering",
                str,
                enum=[*ORDERINGS, *(f"-{o}" for o in ORDERINGS)],
                description="A leading - orders from the highest; empty values last",
            ),
        ],
        responses={200: _page_of("ScorePage", ScoreOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        queryset = scores_list(
            actor=self.actor,
            segment=_choice(request, "segment", Segment.values),
            lifecycle=_choice(request, "lifecycle", Lifecycle.values),
            churn_source=_choice(request, "churn_source", ChurnSource.values),
            churn_min=_risk(request, "min_churn_risk"),
            churn_max=_risk(request, "max_churn_risk"),
            ordering=_choice(request, "ordering", [*ORDERINGS, *(f"-{o}" for o in ORDERINGS)]),
        )
        return self.page(request, queryset, score_as_dict)


class ScoreDetailApi(AnalyticsApi):
    object_api_name = "guest_score"

    @extend_schema(
        operation_id="analytics_score_retrieve",
        responses={200: ScoreOut, **_errors(401, 403, 404)},
        description="A guest's scores, the reasons of their churn risk and their next "
        "best offers (404 before the first scoring run or out of the reader's hotels).",
    )
    def get(self, request, guest_id: int):
        return self.one(score_as_dict(score_get(actor=self.actor, guest_id=_pk(guest_id))))


class ChurnModelApi(AnalyticsApi):
    object_api_name = "churn_model"

    def body(self) -> Response:
        versions = list(churn_models_list(actor=self.actor)[:20])
        rows = self.actor.mask_many("churn_model", [model_as_dict(m) for m in versions])
        return Response(
            {
                "churn_horizon_months": settings_current().churn_horizon_months,
                "latest": rows[0] if rows else None,
                "versions": rows,
            }
        )

    @extend_schema(
        operation_id="analytics_churn_model_retrieve",
        responses={200: ChurnOut, **_errors(401, 403)},
        description="The churn model's versions with their training reports.",
    )
    def get(self, request):
        return self.body()

    @extend_schema(
        operation_id="analytics_churn_model_update",
        request=ChurnIn,
        responses={200: ChurnOut, **_errors(400, 401, 403)},
        description="Set the churn horizon: a guest has churned after this many months "
        "without a stay (administrators; used from the next training run).",
    )
    def patch(self, request):
        actor = self.actor
        actor.require("churn_model", "view")
        actor.require_admin("change the analytics settings")
        settings_update(actor=actor, **_valid(ChurnIn, request))
        return self.body()


class RefreshApi(AnalyticsApi):
    object_api_name = "guest_score"

    @extend_schema(
        operation_id="analytics_refresh",
        request=RefreshIn,
        responses={202: RefreshOut, **_errors(400, 401, 403)},
        description="Retrain the churn model and rescore every guest now, in the "
        "background (administrators). The nightly run does the same.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("guest_score", "view")
        actor.require_admin("recompute guest scores")
        values = _valid(RefreshIn, request)
        analytics_refresh_request(actor=actor, train=values.get("train", True))
        return Response({"queued": True}, status=202)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(data["columns"])
        writer.writerows(data["rows"])
        return out.getvalue().encode()


class ReportApi(AnalyticsApi):
    object_api_name = "analytics_report"
    renderer_classes = [FastJSONRenderer, CsvRenderer]

    def handle_exception(self, exc):
        # Errors are the house's JSON whatever the answer would have been.
        self.request.accepted_renderer = FastJSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="analytics_report_retrieve",
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, enum=list(NAMES), description="The report"
            ),
            *REPORT_PARAMS,
        ],
        responses={
            (200, "application/json"): AnalyticsReportOut,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="The columns, then one line per row"
            ),
            # Errors are JSON whatever format was asked (see handle_exception).
            **{(code, "application/json"): r for code, r in _errors(400, 401, 403, 404).items()},
        },
        description="A report's figures, money in the base currency through the exchange "
        "rate valid on each arrival. As CSV with ?format=csv or Accept: text/csv.",
    )
    def get(self, request, name: str):
        actor = self.actor
        actor.require("analytics_report", "view")
        params = ReportFiltersIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = dict(params.validated_data)
        values.pop("format", None)
        if request.accepted_renderer.format == "csv":
            actor.require("analytics_report", "export")
        body = report_run(actor=actor, name=name, filters=Filters(**values))
        return Response(actor.mask("analytics_report", body))


class WarningListApi(AnalyticsApi):
    object_api_name = "analytics_report"

    @extend_schema(
        operation_id="analytics_warnings_list",
        parameters=PAGE_PARAMS,
        responses={200: _page_of("WarningRulePage", WarningRuleOut), **_errors(400, 401, 403)},
    )
    def get(self, request):
        self.actor.require("analytics_report", "view")
        return self.page(request, WarningRule.objects.order_by("pk"), rule_as_dict)

    @extend_schema(
        operation_id="analytics_warning_create",
        request=WarningRuleIn,
        responses={201: WarningRuleOut, **_errors(400, 401, 403)},
        description="A threshold (administrators). guest_churn: a guest's churn risk at "
        "or above the threshold (VIP level at least min_vip_level) starts the workflows "
        "on guests triggered by analytics_alert. report: a hotel's measure over the last "
        "window_days (above / below the threshold, or rise_pct / fall_pct against the "
        "window before) starts those on hotels triggered by analytics_report_alert. "
        "Checked after each scoring run, once a day per rule and record.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("analytics_report", "view")
        actor.require_admin("set analytics warnings")
        rule = warning_rule_create(actor=actor, **_valid(WarningRuleIn, request))
        return self.one(rule_as_dict(rule), status=201)
