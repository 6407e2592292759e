"""The embedded PostgreSQL (no DATABASE_URL) starts only when a process connects, and
the process that started it stops it when it ends: no command leaves one running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATRIUM_EMBEDDED_KEEP")}
    env["ATRIUM_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.local"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


def test_help_and_argument_errors_start_no_server(tmp_path):
    assert _manage(tmp_path, "bench", "--help").returncode == 0
    assert _manage(tmp_path, "tenant_list", "--no-such-option").returncode != 0
    assert not (tmp_path / "pg").exists()


def test_a_command_that_started_the_server_stops_it(tmp_path):
    done = _manage(tmp_path, "db_ensure")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "database atrium created" in done.stdout
    assert (tmp_path / "pg" / "PG_VERSION").exists()  # it did start and initialise...
    assert not _running(tmp_path)  # ...and it is stopped again
    again = _manage(tmp_path, "db_ensure")
    assert "database atrium exists" in again.stdout and not _running(tmp_path)
