"""OpenTelemetry and Sentry stay out of the process unless configured."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import sys
import saas.wsgi
from django.conf import settings
print("otel" if "opentelemetry.sdk.trace" in sys.modules else "no-otel")
print("sentry" if "sentry_sdk" in sys.modules else "no-sentry")
if "opentelemetry.sdk.trace" in sys.modules:
    from opentelemetry import trace
    print(type(trace.get_tracer_provider()).__name__)
    print(any("opentelemetry" in m for m in settings.MIDDLEWARE))
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    print(sentry_sdk.get_client().is_active())
"""


def _run(**env) -> list[str]:
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "SENTRY_")) and k != "DJANGO_SETTINGS_MODULE"
    }
    full.update(env, DJANGO_SETTINGS_MODULE="saas.settings.test")
    result = subprocess.run(
        [sys.executable, "-c", CHECK], env=full, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_nothing_is_loaded_without_an_endpoint_or_a_dsn():
    assert _run() == ["no-otel", "no-sentry"]


def test_an_otlp_endpoint_and_a_dsn_turn_both_on():
    out = _run(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:1",
        SENTRY_DSN="http://public@127.0.0.1:1/1",
    )

    assert out == ["otel", "sentry", "TracerProvider", "True", "True"]
