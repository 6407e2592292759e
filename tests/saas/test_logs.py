"""Structured logs: one JSON object per line, with the request id and the tenant."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client

from saas.observability.logs import ContextFilter, JsonFormatter, logging_config, request_id_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The request logger's records, formatted as production writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("atrium.requests")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_request_logs_one_json_line_with_its_id_and_tenant(json_lines, tenant_a):
    response = Client(HTTP_HOST="alpha.test").get("/login/", HTTP_X_REQUEST_ID="edge-4711.a")

    assert response["X-Request-ID"] == "edge-4711.a"
    [line] = json_lines()
    assert line["request_id"] == "edge-4711.a"
    assert line["tenant"] == "alpha"
    assert line["tenant_schema"] == tenant_a.schema_name
    assert line["route"] == "login/"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert line["logger"] == "atrium.requests"
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize(
    "given", [None, "", "has space", "line\nbreak", "x" * 200, "-leading-dash", "ü"]
)
def test_an_insane_request_id_is_replaced(json_lines, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}

    response = Client(HTTP_HOST="atrium.test").get("/", **headers)

    drawn = response["X-Request-ID"]
    assert drawn != given
    assert len(drawn) == 32 and drawn.isalnum()
    assert json_lines()[-1]["request_id"] == drawn


def test_each_request_gets_its_own_id():
    assert request_id_from(None) != request_id_from(None)


def test_exceptions_and_extras_are_fields():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("it",), None)
        record.exc_info = sys.exc_info()
    record.guest_id = 42
    ContextFilter().filter(record)

    line = json.loads(formatter.format(record))

    assert line["message"] == "failed it"
    assert line["guest_id"] == 42
    assert "ValueError: boom" in line["exception"]
    assert "\n" not in formatter.format(record)


def test_log_format_is_checked():
    from django.core.exceptions import ImproperlyConfigured

    assert logging_config(log_format="json", level="INFO")["formatters"]["main"]["()"].endswith(
        "JsonFormatter"
    )
    assert "format" in logging_config(log_format="text", level="INFO")["formatters"]["main"]
    with pytest.raises(ImproperlyConfigured):
        logging_config(log_format="xml", level="INFO")


def test_a_task_log_line_carries_the_task_id_and_tenant(tenant_a):
    from django_tenants.utils import tenant_context

    from tenants.jobs.tasks import run_job

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("celery.app.trace")
    logger.addHandler(handler)
    try:
        with tenant_context(tenant_a):
            result = run_job.apply(args=["not-a-job-id"])
    finally:
        logger.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert failure["task_id"] == result.id
    assert failure["tenant"] == "alpha"
    assert "ValidationError" in failure["exception"]
