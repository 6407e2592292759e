"""A real Celery worker process for the test database (real broker: Redis when
CELERY_BROKER_URL is set, else the filesystem transport), for the tests that follow a
task from a request to its effect."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[1]


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{auth}@/{db['NAME']}?host={quote(host)}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{db['NAME']}"


def worker_start(
    extra_env: dict[str, str] | None = None, name: str = "test"
) -> tuple[subprocess.Popen, list[str]]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
    env["DATABASE_URL"] = database_url()
    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env.update(extra_env or {})
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


def worker_kill(proc: subprocess.Popen) -> None:
    """SIGKILL, as the OOM killer or a lost machine would: no shutdown, no
    acknowledgement, no rollback but the one the database does for a dropped connection."""
    proc.kill()
    proc.wait(20)


def backends_waiting_on_a_lock(query_start: str) -> int:
    """Sessions of the test database whose statement starts so and waits for a lock held
    by another session."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            [query_start + "%"],
        )
        return cursor.fetchone()[0]
