"""The settings a Celery worker starts with: work survives a killed worker where the
broker allows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("broker", ["redis://127.0.0.1:6379/9", ""])
def test_messages_are_acknowledged_late_and_redis_waits_longer_than_any_task(broker, tmp_path):
    """Late acknowledgement, given back when the worker process dies, one message at a
    time, and (Redis) the visibility timeout from the environment. Read in a fresh
    interpreter, as a worker starts; nothing connects to the broker or the database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.base",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "CELERY_BROKER_URL": broker,
        "ATRIUM_BROKER_VISIBILITY_TIMEOUT": "7777",
        "ATRIUM_DATA_DIR": str(tmp_path),
    }
    code = (
        "import json, django; django.setup();"
        "from saas.celery import app; c = app.conf;"
        "print(json.dumps([c.task_acks_late, c.task_reject_on_worker_lost,"
        " c.worker_prefetch_multiplier, c.broker_transport_options]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    acks_late, reject, prefetch, options = json.loads(out.stdout.strip().splitlines()[-1])
    assert (acks_late, reject, prefetch) == (True, True, 1)
    if broker:
        assert options == {"visibility_timeout": 7777}
    else:  # the filesystem transport: its folders, and no visibility timeout
        assert "visibility_timeout" not in options
        assert options["data_folder_in"] == str(tmp_path / "broker" / "queue")
