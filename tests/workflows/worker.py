"""Start a real Celery worker for the test database (as tests/tenants/test_worker.py does),
with extra environment such as the SMTP server to deliver to."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings

from tests.tenants.test_worker import REPO, database_url


def worker_start(extra_env: dict[str, str], name: str = "wf") -> tuple[subprocess.Popen, list[str]]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
    env["DATABASE_URL"] = database_url()
    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env.update(extra_env)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "saas",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            lines.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(90):
        proc.kill()
        pytest.fail("worker did not start:\n" + "".join(lines[-40:]))
    return proc, lines


def worker_stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
