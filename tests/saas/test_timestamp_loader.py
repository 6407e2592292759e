"""Timestamps are read with psycopg's C parser and come out exactly as Django's own
loader gives them: aware, in the connection's zone (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

from saas.db.base import TIMESTAMPTZ_OID, timestamptz_loader

pytestmark = pytest.mark.django_db


def test_connections_read_timestamps_with_the_c_parser():
    connection.ensure_connection()
    registered = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert registered is timestamptz_loader(connection.timezone)
    assert not issubclass(registered, PythonTimestamptzLoader)
    # Django's cursors keep it: they register their own only for another zone.
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is registered


@pytest.mark.parametrize(
    "literal",
    [
        "2026-11-29 17:40:12.123456+00",
        "1999-01-08 04:05:06.5+02:30",
        "0001-01-01 00:00:00+00",
        "9999-12-31 23:59:59.999999+00",
        "2024-02-29 12:00:00-11",
    ],
)
def test_values_equal_what_the_python_loader_gives(literal):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, (%s::timestamptz)::text", [literal, literal])
        value, text = cursor.fetchone()
    python = PythonTimestamptzLoader(TIMESTAMPTZ_OID, connection.connection).load(text.encode())
    assert value == python.replace(tzinfo=UTC)
    assert value.tzinfo is UTC and value.utcoffset() == timedelta(0)


def test_a_written_datetime_comes_back_equal():
    moment = datetime(2026, 3, 29, 1, 30, 5, 250, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moment])
        (back,) = cursor.fetchone()
    assert back == moment and back.tzinfo is UTC
