"""Screens of the analytics module: the reports with a chart and the same figures as a
table, the churn model's training report, and the panel on the guest profile."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saas.ui.analytics.charts import bar_chart, line_chart
from tenants.access.principal import Principal

# Report: (title, chart kind, label column, value columns).
CHARTS: dict[str, tuple[Any, str, str, tuple[str, ...]]] = {
    "bookings_by_month": (
        gettext_lazy("Bookings and room nights by month"), "line", "month",
        ("bookings", "room_nights"),
    ),
    "cancellations": (
        gettext_lazy("Cancellation and no-show rate"), "line", "month",
        ("cancellation_rate", "no_show_rate"),
    ),
    "revenue_by_segment": (
        gettext_lazy("Revenue by market segment"), "bar", "market_code", ("revenue",),
    ),
    "booking_window": (
        gettext_lazy("Booking window (days before arrival)"), "bar", "days_before_arrival",
        ("bookings",),
    ),
    "length_of_stay": (gettext_lazy("Length of stay (nights)"), "bar", "nights", ("bookings",)),
    "repeat_guests": (
        gettext_lazy("Repeat guests"), "bar", "guests", ("guests", "repeat_guests"),
    ),
    "guest_mix": (gettext_lazy("Guest mix by nationality"), "bar", "nationality", ("guests",)),
    "rfm_segments": (gettext_lazy("RFM segments"), "bar", "label", ("guests",)),
    "rfm_movement": (
        gettext_lazy("RFM segment movement since last month"), "bar", "move", ("guests",),
    ),
    "churn_risk": (gettext_lazy("Churn risk"), "bar", "risk", ("model", "rules")),
}  # fmt: skip


def _chart(name: str, report: dict):
    title, kind, label_column, value_columns = CHARTS[name]
    columns, rows = report["columns"], report["rows"]
    if not rows:
        return None
    if name == "repeat_guests":  # one row: its two counts side by side
        [row] = rows
        return bar_chart(
            title=str(title),
            labels=[_("Guests who stayed"), _("Repeat guests")],
            values=[row[0], row[1]],
        )
    if name == "rfm_movement":  # one bar per move, "from → to"
        return bar_chart(
            title=str(title),
            labels=[f"{r[1] or '—'} → {r[2]}" for r in rows],
            values=[r[3] for r in rows],
        )
    labels = [str(r[columns.index(label_column)] or "—") for r in rows]
    values = {c: [r[columns.index(c)] or 0 for r in rows] for c in value_columns}
    if kind == "line" and len(rows) > 1:
        return line_chart(title=str(title), labels=labels, series=values)
    if len(value_columns) > 1:  # bars of the columns' sum (e.g. model + rules)
        summed = [sum(Decimal(v[i]) for v in values.values()) for i in range(len(rows))]
        return bar_chart(title=str(title), labels=labels, values=summed)
    return bar_chart(title=str(title), labels=labels, values=values[value_columns[0]])


@login_required
def analytics_reports(request):
    """One report (``?report=``) for a period and a hotel: its chart and its table."""
    from crm.analytics.reports import NAMES, Filters, report_run
    from crm.selectors.operations import properties_list

    actor = Principal.from_request(request)
    actor.require("analytics_report", "view")
    name = request.GET.get("report") or NAMES[0]
    errors: list[str] = []
    if name not in NAMES:
        errors.append(_("Pick a report from the list."))
        name = NAMES[0]
    values: dict[str, Any] = {}
    for key in ("start", "end"):
        raw = request.GET.get(key) or ""
        try:
            values[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors.append(_("Give dates as YYYY-MM-DD."))
    raw_property = request.GET.get("property") or ""
    if raw_property.isdigit() and len(raw_property) < 18:
        values["property"] = int(raw_property)
    elif raw_property:
        errors.append(_("Pick a hotel from the list."))
    try:
        report = report_run(actor=actor, name=name, filters=Filters(**values))
    except ValidationError as exc:
        errors += [" ".join(v) for v in exc.message_dict.values()]
        report = report_run(actor=actor, name=name, filters=Filters())
    return render(
        request,
        "analytics/reports.html",
        {
            "names": [(n, CHARTS[n][0]) for n in NAMES],
            "name": name,
            "title": CHARTS[name][0],
            "report": report,
            "chart": _chart(name, report),
            "errors": errors,
            "values": request.GET,
            "properties": properties_list(actor=actor),
            "can_export": actor.can("analytics_report", "export"),
        },
        status=400 if errors else 200,
    )


@login_required
def analytics_churn(request):
    """The churn model's latest training report and its history; administrators set the
    horizon (POST ``churn_horizon_months``) or ask for a retraining now (POST
    ``refresh``)."""
    from crm.analytics.selectors import churn_models_list
    from crm.analytics.services.churn import settings_current, settings_update
    from crm.analytics.services.runs import analytics_refresh_request

    actor = Principal.from_request(request)
    actor.require("churn_model", "view")
    errors: list[str] = []
    notice = ""
    if request.method == "POST":
        actor.require_admin("change the analytics settings")
        if "refresh" in request.POST:
            analytics_refresh_request(actor=actor)
            notice = _(
                "Retraining and rescoring have started; this page shows the new version "
                "when they are done."
            )
        else:
            raw = request.POST.get("churn_horizon_months") or ""
            try:
                if not raw.isdigit() or len(raw) > 3:
                    raise ValidationError({"churn_horizon_months": _("Give a whole number.")})
                settings_update(actor=actor, churn_horizon_months=int(raw))
                notice = _("Saved. The next training run uses the new horizon.")
            except ValidationError as exc:
                errors += [" ".join(v) for v in exc.message_dict.values()]
    versions = list(churn_models_list(actor=actor)[:20])
    latest = versions[0] if versions else None
    importances = None
    calibration = None
    if latest is not None and latest.status == latest.Status.TRAINED:
        ranked = sorted(latest.report["feature_importances"].items(), key=lambda kv: -kv[1])
        importances = bar_chart(
            title=_("Feature importances"),
            labels=[k for k, _v in ranked],
            values=[v for _k, v in ranked],
        )
        calibration = [b for b in latest.report["calibration"] if b["count"]]
    return render(
        request,
        "analytics/churn.html",
        {
            "latest": latest,
            "versions": versions,
            "importances": importances,
            "calibration": calibration,
            "horizon": settings_current().churn_horizon_months,
            "errors": errors,
            "notice": notice,
            "can_change": actor.is_admin,
        },
        status=400 if errors else 200,
    )


@login_required
def analytics_warnings(request):
    """The warning rules (readers of reports) and, for administrators, a form adding
    one; the latest alerts under them."""
    from crm.analytics.models import Alert, WarningRule
    from crm.analytics.reports import MEASURES
    from crm.analytics.services.warnings import warning_rule_create
    from crm.selectors.operations import properties_list
    from saas.ui.errors import errors_by_field

    actor = Principal.from_request(request)
    actor.require("analytics_report", "view")
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        actor.require_admin("set analytics warnings")
        form = request.POST
        try:
            threshold = Decimal(form.get("threshold") or "")
        except ArithmeticError:
            threshold = Decimal("NaN")
        if not threshold.is_finite():
            errors["threshold"] = [_("Give a number.")]
        raw_property = form.get("property_id") or ""
        raw_window = form.get("window_days") or "7"
        raw_vip = form.get("min_vip_level") or "0"
        if raw_property and not raw_property.isdigit():
            errors["property_id"] = [_("Pick a hotel from the list.")]
        if not raw_window.isdigit() or not raw_vip.isdigit():
            errors["window_days"] = [_("Give a whole number.")]
        if not (form.get("name") or "").strip():
            errors["name"] = [_("Give the warning a name.")]
        if not errors:
            try:
                warning_rule_create(
                    actor=actor,
                    name=form["name"].strip()[:100],
                    kind=form.get("kind") or "",
                    measure=form.get("measure") or "",
                    property_id=int(raw_property) if raw_property else None,
                    channel=(form.get("channel") or "")[:40],
                    market_code=(form.get("market_code") or "")[:20],
                    comparison=form.get("comparison") or WarningRule.Comparison.ABOVE,
                    threshold=threshold,
                    window_days=int(raw_window[:4]),
                    min_vip_level=int(raw_vip[:4]),
                )
            except ValidationError as exc:
                errors = errors_by_field(exc)
        if not errors:
            from django.shortcuts import redirect

            return redirect("analytics_warnings")
        status = 400
    return render(
        request,
        "analytics/warnings.html",
        {
            "rules": WarningRule.objects.order_by("pk"),
            "alerts": Alert.objects.select_related("rule")[:50],
            "errors": errors,
            "values": request.POST,
            "kinds": WarningRule.Kind.choices,
            "comparisons": WarningRule.Comparison.choices,
            "measures": list(MEASURES),
            "properties": properties_list(actor=actor),
            "can_set": actor.is_admin,
        },
        status=status,
    )


def guest_analytics_panel(*, actor: Principal, guest_id: int) -> dict[str, Any] | None:
    """What the guest profile shows of the scores, or None (module off, no right to view
    scores, or not scored yet)."""
    from metadata.services.modules import module_enabled

    if not module_enabled("analytics") or not actor.can("guest_score", "view"):
        return None
    from crm.analytics.selectors import scores_list
    from crm.analytics.texts import lifecycle_label, reason_text, segment_label

    score = scores_list(actor=actor).filter(guest_id=guest_id).first()
    if score is None:
        return None
    visible = actor.fields_visible("guest_score")
    reasons = [reason_text(r["feature"], float(r["value"])) for r in score.churn_reasons]
    shown = {
        "segment": (segment_label(score.segment), "segment"),
        "rfm": (f"{score.recency}-{score.frequency}-{score.monetary}", "recency"),
        "historical_value": (score.historical_value, "historical_value"),
        "currency": (score.currency, "currency"),
        "lifecycle": (lifecycle_label(score.lifecycle), "lifecycle"),
        "churn_risk": (score.churn_risk, "churn_risk"),
        "churn_source": (score.get_churn_source_display(), "churn_source"),
        "churn_reasons": (reasons, "churn_reasons"),
        "offers": (score.offers, "offers"),
    }
    # A field the reader may not see is left out, as the API leaves it out.
    return {key: value for key, (value, field) in shown.items() if field in visible}
