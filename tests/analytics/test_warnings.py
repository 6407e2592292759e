"""Warnings: a VIP's churn risk above a threshold, and a hotel's cancellation rate of the
OTA channel rising week over week, each start the workflows of their trigger once a day;
bad rules are refused naming the field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.analytics.models import Alert
from crm.analytics.services.scores import scores_refresh
from crm.analytics.services.warnings import warning_rule_create, warnings_check
from crm.models import Reservation
from metadata.models import WorkflowRun
from metadata.services.workflows import workflow_create
from tests.analytics.conftest import TODAY, guests_bulk, stays_bulk
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _workflow(key: str, object_api_name: str, event: str):
    return workflow_create(
        key=key,
        name=key,
        object_api_name=object_api_name,
        trigger={"type": "event", "event": event},
        actions=[{"type": "add_tag", "tag": "at-risk"}] if object_api_name == "guest" else [
            {"type": "create_task", "subject": "Look at cancellations"}
        ],
        enabled=True,
        actor=SYSTEM,
    )  # fmt: skip


def test_a_vip_above_the_churn_threshold_starts_the_workflow_once(hotel):
    (vip_gone,) = guests_bulk(1, vip_level=2)
    (plain_gone,) = guests_bulk(1)
    (vip_here,) = guests_bulk(1, vip_level=2)
    stays_bulk(
        [
            {"property": hotel, "guest": vip_gone, "arrival": TODAY - timedelta(days=900)},
            {"property": hotel, "guest": plain_gone, "arrival": TODAY - timedelta(days=900)},
            {"property": hotel, "guest": vip_here, "arrival": TODAY - timedelta(days=10)},
        ]
    )
    scores_refresh(actor=SYSTEM, today=TODAY)
    workflow = _workflow("vip_churn", "guest", "analytics_alert")
    warning_rule_create(
        actor=SYSTEM, name="VIP at risk", kind="guest_churn", threshold=Decimal("0.7"),
        min_vip_level=1,
    )  # fmt: skip

    assert warnings_check(actor=SYSTEM, today=TODAY) == 1
    assert warnings_check(actor=SYSTEM, today=TODAY) == 0

    [run] = WorkflowRun.objects.filter(workflow=workflow)
    assert run.record_id == str(vip_gone.pk) and run.trigger_type == "event"
    assert run.event["data"]["value"] == "1.000" and run.event["data"]["threshold"] == "0.7000"
    assert Alert.objects.get().record_id == vip_gone.pk


def test_a_rising_cancellation_rate_of_a_channel_starts_the_hotels_workflow(hotel):
    guests = guests_bulk(8)
    cancelled = Reservation.Status.CANCELLED
    rows = []
    # Previous week: 1 of 4 OTA bookings cancelled; this week 2 of 4 (+100 %); the web
    # channel's cancellations do not count.
    for n, guest in enumerate(guests):
        this_week = n >= 4
        arrival = TODAY - timedelta(days=3 if this_week else 10)
        status = cancelled if n in (0, 4, 5) else Reservation.Status.CHECKED_OUT
        rows.append({"property": hotel, "guest": guest, "arrival": arrival, "status": status,
                     "channel": "OTA"})  # fmt: skip
    rows.append({"property": hotel, "guest": guests[0], "arrival": TODAY - timedelta(days=10),
                 "status": cancelled, "channel": "WEB"})  # fmt: skip
    stays_bulk(rows)
    workflow = _workflow("ota_cancellations", "property", "analytics_report_alert")
    warning_rule_create(
        actor=SYSTEM, name="OTA cancellations up", kind="report", measure="cancellation_rate",
        property_id=hotel.pk, channel="OTA", comparison="rise_pct", threshold=Decimal("20"),
    )  # fmt: skip
    calm = warning_rule_create(
        actor=SYSTEM, name="OTA cancellations doubled", kind="report",
        measure="cancellation_rate", property_id=hotel.pk, channel="OTA",
        comparison="rise_pct", threshold=Decimal("150"),
    )  # fmt: skip

    assert warnings_check(actor=SYSTEM, today=TODAY) == 1

    alert = Alert.objects.get()
    assert (alert.value, alert.previous) == (Decimal("0.5000"), Decimal("0.2500"))
    assert alert.rule != calm and alert.object_api_name == "property"
    [run] = WorkflowRun.objects.filter(workflow=workflow)
    assert run.record_id == str(hotel.pk)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "guest_churn", "threshold": Decimal("1.5")}, "threshold"),
        ({"kind": "report", "measure": "happiness", "threshold": Decimal(1)}, "measure"),
        ({"kind": "report", "measure": "bookings", "threshold": Decimal(1)}, "property_id"),
        ({"kind": "forecast", "threshold": Decimal(1)}, "kind"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(hotel, values, field):
    with pytest.raises(ValidationError) as refused:
        warning_rule_create(actor=SYSTEM, name="x", **values)

    assert list(refused.value.message_dict) == [field]
