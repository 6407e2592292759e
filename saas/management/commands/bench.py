"""``make bench``: runs the benchmark suite against a database of its own.

The outer call prepares a fresh ``atrium_bench`` database (on DATABASE_URL's server, or
the embedded one) and runs the suite in a child process pointed at it, so that the
figures never touch development or test data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from saas import embedded
from tenants.context import schema_public_set

SUITES = (
    "provisioning",
    "custom_filter",
    "api",
    "imports",
    "loadtest",
    "workflows",
    "service",
    "analytics",
    "marketing",
)


def bench_database_url() -> str:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL"):
        parts = urlsplit(os.environ["DATABASE_URL"])
        return urlunsplit(parts._replace(path="/atrium_bench"))
    return embedded.embedded_database_url("atrium_bench")


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    from saas.settings.env import parse_database_url

    params = parse_database_url(url)
    conninfo = {
        "dbname": "postgres",
        "user": params["USER"],
        "password": params["PASSWORD"],
        "host": params["HOST"],
        "port": params["PORT"],
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in conninfo.items() if v}) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(params["NAME"])
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


class Command(BaseCommand):
    help = "Run the benchmark suite and write bench-results.json (BENCH_OUT) and a Markdown table."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=SUITES, action="append", help="Run only these suites")
        parser.add_argument("--inner", action="store_true", help="(internal) run in this process")

    def handle(self, *args, **options):
        if not options["inner"]:
            return self.outer(options)
        return self.inner(options)

    def outer(self, options):
        url = bench_database_url()
        recreate_database(url)
        argv = [sys.executable, "manage.py", "bench", "--inner"]
        for suite in options["only"] or []:
            argv += ["--only", suite]
        # The workflow suite's workers and this run share a broker folder of their own.
        env = {**os.environ, "DATABASE_URL": url, "ATRIUM_BROKER_FOLDER": "broker-bench"}
        self.stdout.write(f"bench database: {url.split('@')[-1]}")
        subprocess.run(argv, env=env, check=True)

    def inner(self, options):
        from django.db import connection

        from saas.bench import machine, write_results

        started = time.perf_counter()
        scale = os.environ.get("BENCH_SCALE", "small")
        log = lambda message: self.stdout.write(message, ending="\n") or self.stdout.flush()  # noqa: E731
        # As in production: no query log kept in memory while timing.
        settings.DEBUG = False
        log(f"preparing schema (scale {scale})")
        call_command("migrate_schemas", interactive=False, verbosity=0)
        call_command("platform_init", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = cursor.fetchone()[0]
        figures = []
        for suite in options["only"] or SUITES:
            module = __import__(f"saas.bench.{suite}", fromlist=["run"])
            figures.extend(module.run(log))
            schema_public_set()  # a suite may leave a tenant's schema set
        meta = {
            "scale": scale,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": time.perf_counter() - started,
            "machine": machine(),
            "postgres": postgres.split(" ")[0],
            "database": settings.DATABASES["default"]["NAME"],
        }
        out, table = write_results(figures, meta)
        self.stdout.write("")
        self.stdout.write(table)
        self.stdout.write(f"written {out} and {out.with_suffix('.md')}")
