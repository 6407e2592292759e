"""Production settings refuse to start when misconfigured."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://u:p@db.invalid:5432/atrium",
    "CELERY_BROKER_URL": "redis://broker.invalid:6379/0",
    "ALLOWED_HOSTS": ".atrium.example",
}


def load_production(**env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {*GOOD, "DEBUG"}}
    full.update({k: v for k, v in env.items() if v is not None})
    full["DJANGO_SETTINGS_MODULE"] = "saas.settings.production"
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60
    )


def test_production_starts_when_configured():
    result = load_production(**GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list"),
    ],
)
def test_production_refuses_misconfiguration(change, message):
    env = {**GOOD, **change}
    result = load_production(**env)
    assert result.returncode != 0
    assert message in result.stderr
