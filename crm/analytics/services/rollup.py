"""The reservation rollup: rebuilt whole (nightly, and after exchange rates change) or
refreshed for the arrival days and hotels a reservation write touched (in the writer's
transaction, from the record events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from crm.analytics.reports import ROLLUP_KEYS, Filters, rollup_select
from crm.services.common import tenant_base_currency

_INSERT = (
    f"INSERT INTO analytics_rollup ({ROLLUP_KEYS}, bookings, room_nights, value, unconverted) "
)


@transaction.atomic
def rollup_rebuild() -> int:
    """Replace every row; returns how many there are."""
    params = {"base": tenant_base_currency()}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM analytics_rollup")
        cursor.execute(_INSERT + rollup_select(Filters(), params), params)
        return cursor.rowcount


@transaction.atomic
def rollup_refresh(*, keys: Iterable[tuple[date, int]]) -> None:
    """Recompute the rows of these (arrival day, hotel) pairs."""
    base = tenant_base_currency()
    with connection.cursor() as cursor:
        for day, property_id in sorted(set(keys)):
            cursor.execute(
                "DELETE FROM analytics_rollup WHERE arrival = %s AND property_id = %s",
                [day, property_id],
            )
            params = {"base": base}
            select = rollup_select(Filters(start=day, end=day, property=property_id), params)
            cursor.execute(_INSERT + select, params)
