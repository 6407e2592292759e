"""Warnings: thresholds an administrator sets on a guest's churn risk or on a hotel's
report measure, checked after each scoring run. A crossed threshold records an alert
(once per rule, day and record) and starts the workflows triggered by ``analytics_alert``
(on the guest) or ``analytics_report_alert`` (on the hotel), so a workflow can e-mail,
create a task or open a case."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.analytics.models import Alert, GuestScore, WarningRule
from crm.analytics.reports import MEASURES, Filters, measure_value
from crm.models import Property
from tenants.access.principal import Principal

GUEST_EVENT = "analytics_alert"
REPORT_EVENT = "analytics_report_alert"


@transaction.atomic
def warning_rule_create(
    *,
    actor: Principal,
    name: str,
    kind: str,
    threshold: Decimal,
    measure: str = "",
    property_id: int | None = None,
    channel: str = "",
    market_code: str = "",
    comparison: str = WarningRule.Comparison.ABOVE,
    window_days: int = 7,
    min_vip_level: int = 0,
) -> WarningRule:
    actor.require_admin("set analytics warnings")
    actor.require("analytics_report", "view")  # the module must be on
    threshold = Decimal(threshold)
    if kind == WarningRule.Kind.GUEST_CHURN:
        if not 0 <= threshold <= 1:
            raise ValidationError({"threshold": "A churn risk threshold is from 0 to 1."})
        if comparison != WarningRule.Comparison.ABOVE:
            raise ValidationError({"comparison": "A churn risk warning fires above a risk."})
        if measure or property_id:
            raise ValidationError({"measure": "A churn risk warning watches no report."})
    elif kind == WarningRule.Kind.REPORT:
        if measure not in MEASURES:
            raise ValidationError({"measure": f"Watch one of {', '.join(MEASURES)}."})
        if property_id is None or not Property.objects.filter(pk=property_id).exists():
            raise ValidationError({"property_id": "Name the hotel whose figures to watch."})
        actor.require_property(property_id, field="property_id")
    else:
        raise ValidationError({"kind": "Use guest_churn or report."})
    if not 1 <= window_days <= 366:
        raise ValidationError({"window_days": "Give a number of days from 1 to 366."})
    return WarningRule.objects.create(
        name=name,
        kind=kind,
        measure=measure,
        property_id=property_id,
        channel=channel,
        market_code=market_code,
        comparison=comparison,
        threshold=threshold,
        window_days=window_days,
        min_vip_level=min_vip_level,
    )


def _crossed(rule: WarningRule, value: Decimal | None, previous: Decimal | None) -> bool:
    if value is None:
        return False
    if rule.comparison == WarningRule.Comparison.ABOVE:
        return value > rule.threshold
    if rule.comparison == WarningRule.Comparison.BELOW:
        return value < rule.threshold
    if not previous:  # no change in per cent from nothing
        return False
    change = (value - previous) / previous * 100
    if rule.comparison == WarningRule.Comparison.RISE_PCT:
        return change > rule.threshold
    return -change > rule.threshold


def _fire(
    rule: WarningRule, *, today: date, object_api_name: str, record_id: int, event: str,
    value: Decimal, previous: Decimal | None = None,
) -> bool:  # fmt: skip
    try:
        with transaction.atomic():
            Alert.objects.create(
                rule=rule,
                fired_on=today,
                object_api_name=object_api_name,
                record_id=record_id,
                value=value,
                previous=previous,
            )
    except IntegrityError:
        return False  # already raised today
    from metadata.workflows.engine import workflow_event_fire

    workflow_event_fire(
        name=event,
        object_api_name=object_api_name,
        record_id=record_id,
        occurrence=f"{rule.pk}:{today.isoformat()}",
        data={
            "rule": rule.pk,
            "name": rule.name,
            "measure": rule.measure or "churn_risk",
            "value": str(value),
            "previous": str(previous) if previous is not None else None,
            "threshold": str(rule.threshold),
        },
    )
    return True


@transaction.atomic
def warnings_check(*, actor: Principal, today: date | None = None) -> int:
    """Check every active rule; returns the number of alerts raised."""
    actor.require_admin("check analytics warnings")
    today = today or timezone.localdate()
    raised = 0
    for rule in WarningRule.objects.filter(active=True):
        if rule.kind == WarningRule.Kind.GUEST_CHURN:
            risky = GuestScore.objects.filter(
                churn_risk__gte=rule.threshold, guest__vip_level__gte=rule.min_vip_level
            )
            for score in risky:
                raised += _fire(
                    rule, today=today, object_api_name="guest", record_id=score.guest_id,
                    event=GUEST_EVENT, value=score.churn_risk or Decimal(0),
                )  # fmt: skip
            continue
        window = timedelta(days=rule.window_days)

        def measured(start: date, end: date, rule: WarningRule = rule) -> Decimal | None:
            return measure_value(
                measure=rule.measure,
                filters=Filters(
                    start=start,
                    end=end,
                    property=rule.property_id,
                    channel=rule.channel or None,
                    market_code=rule.market_code or None,
                ),
            )

        one_day = timedelta(days=1)
        value = measured(today - window, today - one_day)
        previous = measured(today - 2 * window, today - window - one_day)
        if _crossed(rule, value, previous):
            assert value is not None and rule.property_id is not None
            raised += _fire(
                rule, today=today, object_api_name="property", record_id=rule.property_id,
                event=REPORT_EVENT, value=value, previous=previous,
            )  # fmt: skip
    return raised
