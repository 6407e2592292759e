"""Embedded defaults so that a newcomer needs nothing but Python.

When ``DATABASE_URL`` is unset we start a private PostgreSQL from the ``pgserver``
package under ``.data/pg`` (git-ignored) and hand its socket URL to every process we
start. When ``CELERY_BROKER_URL`` is unset we use kombu's filesystem transport under
``.data/broker`` so that a real worker and beat still run without a broker server.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    path = Path(os.environ.get("ATRIUM_DATA_DIR", REPO_ROOT / ".data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def embedded_database_url(database: str = "atrium") -> str:
    """Start (or reuse) the embedded server and return a URL for ``database``.

    The server keeps running after this process exits so that the web process, the
    worker and beat share it; ``stop_embedded_database`` stops it.
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset (typical on servers and in CI).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(data_dir() / "pg", cleanup_mode=None)
    url = server.get_uri(database)
    database_ensure(url)
    return url


def database_ensure(url: str) -> bool:
    """Create the database named in ``url`` when it does not exist yet. True if created."""
    import psycopg
    from psycopg import sql

    from saas.settings.env import parse_database_url

    params = parse_database_url(url)
    conninfo = {
        "dbname": "postgres",
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
    }
    dsn = psycopg.conninfo.make_conninfo(**{k: v for k, v in conninfo.items() if v})
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))
        return True


def stop_embedded_database() -> bool:
    """Stop the embedded server if it runs. Returns True when one was stopped."""
    pgdata = data_dir() / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    # pgserver runs the server as its own system user when we are root.
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def filesystem_broker(name: str = "broker") -> tuple[str, dict[str, Any]]:
    """Broker URL and transport options for kombu's filesystem transport.

    Every folder the transport writes (queue, processed, and the exchange table it
    calls ``control``) lives under the git-ignored data folder.
    """
    root = data_dir() / name
    for sub in ("queue", "processed", "control"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": "false",
    }
