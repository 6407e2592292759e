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


# Unix sockets live in a path of at most ~107 bytes; pgserver puts the socket in the data
# folder when it fits (else in a runtime folder, whose name we cannot know beforehand).
_SOCKET_PATH_ROOM = 90
_started_here = False


def _pgdata() -> Path:
    return data_dir() / "pg"


def _running() -> bool:
    return (_pgdata() / "postmaster.pid").exists()


def embedded_database_url(database: str = "atrium", *, start: bool = True) -> str:
    """The URL of ``database`` on the embedded server.

    With ``start=False`` nothing is started when the URL can be told in advance (the
    socket sits in the data folder): the database backend starts the server at the
    first connection, so ``--help`` or a mistyped argument never starts one.
    Otherwise the server is started (or reused) and the database created.
    """
    pgdata = _pgdata()
    if not start and not _running() and len(str(pgdata)) <= _SOCKET_PATH_ROOM:
        return f"postgresql://postgres:@/{database}?host={pgdata}"
    return embedded_database_start(database)


def embedded_database_start(database: str | None = "atrium") -> str:
    """Start the embedded server unless it runs, and create ``database`` if missing.

    The process that starts the server stops it when it exits (a test run, a command,
    ``make run``'s stack): no server is left behind by whoever started it. A process
    that finds it running leaves it alone, so processes of one stack share it."""
    global _started_here
    was_running = _running()
    # platformdirs warns when XDG_RUNTIME_DIR is unset (typical on servers and in CI).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(_pgdata(), cleanup_mode=None)
    if not was_running and not _started_here and not os.environ.get("ATRIUM_EMBEDDED_KEEP"):
        import atexit

        _started_here = True
        atexit.register(stop_embedded_database)
    url = server.get_uri(database or "postgres")
    if database:
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
