"""How the rollup hears of reservation writes: crm's record events (services, imports
and OTA pushes alike). The rows of the arrival day and hotel before and after the write
are recomputed inside the writer's transaction, in a savepoint: a fault here never
undoes the write, and the nightly rebuild repairs what was missed."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction

from metadata import events

log = logging.getLogger(__name__)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _property(values: dict) -> int | None:
    raw = values.get("property_id", values.get("property"))
    if isinstance(raw, dict):
        raw = raw.get("id")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def on_record_event(event: events.RecordEvent) -> None:
    if event.object_api_name != "reservation":
        return
    from tenants.context import current_schema

    if current_schema() in ("public", settings.TENANT_BASE_SCHEMA):
        return
    from crm.analytics.apps import module_on

    if not module_on():
        return
    from crm.models import Reservation

    current = (
        Reservation.objects.filter(pk=event.record_id).values("arrival", "property_id").first()
        if event.record_id.isdigit()
        else None
    )
    keys: set[tuple[date, int]] = set()
    now_day: date | None = None
    now_hotel: int | None = None
    if current is not None:
        now_day, now_hotel = current["arrival"], current["property_id"]
        keys.add((current["arrival"], current["property_id"]))
    for values in (event.old, event.new):
        day = _day(values.get("arrival")) or now_day
        hotel = _property(values) or now_hotel
        if day is not None and hotel is not None:
            keys.add((day, hotel))
    if not keys:
        return
    from crm.analytics.services.rollup import rollup_refresh

    try:
        with transaction.atomic():
            rollup_refresh(keys=keys)
    except Exception:
        log.exception("analytics: rollup of reservation %s not refreshed", event.record_id)
