"""Load test: the tenant API served by gunicorn (several workers) on loopback, driven by a
bounded number of keep-alive requests from client threads in this process.

Reports throughput, p95 latency, the error count (any status other than 200, or a failed
connection) and the peak resident memory of the busiest worker. The baseline is the same
number of requests' SQL run raw through psycopg from the same number of threads, so the
ratio says what the HTTP + Django + DRF layers cost over the database work itself."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from saas.bench import REPO, Figure, Timer, p50, p95
from tenants.access.principal import Principal
from tenants.models import Tenant

WORKERS = 4
CLIENT_THREADS = 8
REQUESTS = {"small": 3000, "large": 20000}
HOST = "loadtest.bench.localhost"


@dataclass(frozen=True)
class Target:
    """One endpoint hit by the load, with the SQL a raw client would run for it."""

    path: str
    baseline_sql: str


def _targets(guest_id: int) -> list[Target]:
    return [
        Target(
            "/api/v1/guests/?ordering=surname&limit=50",
            "SELECT * FROM crm_guest ORDER BY surname, id LIMIT 51",
        ),
        Target(f"/api/v1/guests/{guest_id}/", f"SELECT * FROM crm_guest WHERE id = {guest_id}"),
        Target(
            "/api/v1/guests/?q=sil&limit=20",
            "SELECT * FROM crm_guest WHERE surname ILIKE '%sil%' OR given_name ILIKE '%sil%' "
            "OR email ILIKE '%sil%' OR phone LIKE '%sil%' ORDER BY id LIMIT 21",
        ),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tenant_ready(log) -> tuple[Tenant, str, int]:
    """The load-test tenant with demo data, an API key and a guest to fetch."""

    from crm.services.demo import demo_data_generate
    from tenants.services.provisioning import tenant_create
    from tenants.users.models import User

    tenant = Tenant.objects.filter(slug="loadtest").first()
    if tenant is None:
        tenant = tenant_create(
            name="Load Test Hotels",
            slug="loadtest",
            domain=HOST,
            admin_email="ops@loadtest.example",
            currency="EUR",
            languages=["en"],
            status="active",
            send_welcome_email=False,
        ).tenant
    with schema_context(tenant.schema_name):
        log("loadtest: demo data")
        demo_data_generate(guests=300)
        user = User.objects.get(email="ops@loadtest.example")
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
        from crm.models import Guest
        from tenants.access.principal import Principal
        from tenants.integrations.services import api_key_create

        token = api_key_create(
            name="loadtest", user=user, scopes=["*"], actor=Principal.system("benchmark")
        ).plaintext
        guest_id = Guest.objects.order_by("pk").values_list("pk", flat=True)[0]
        return tenant, token, guest_id


def _gunicorn(port: int, workers: int = WORKERS) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "saas.settings.local",
        "DEBUG": "0",  # no query log kept in memory, as in production
        "DB_CONN_MAX_AGE": "60",
        # Measures the server, not the per-key rate limiter (600/min would answer 429s).
        "ATRIUM_API_RATE_PER_MINUTE": "100000000",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "saas.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )


def _wait_ready(port: int, proc: subprocess.Popen, host: str = HOST) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": host})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def _drive(port: int, token: str, targets: list[Target], total: int, host: str = HOST):
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        for index in counter:  # shared iterator: threads split the bounded total
            target = targets[index % len(targets)]
            started = time.perf_counter()
            try:
                conn.request(
                    "GET",
                    target.path,
                    headers={"Host": host, "Authorization": f"Bearer {token}"},
                )
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    with lock:
                        errors.append(f"{target.path}: HTTP {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{target.path}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    with Timer() as timer:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return latencies, errors, timer.seconds


def _raw_baseline(schema: str, targets: list[Target], total: int) -> float:
    """Requests per second when each request is just its SQL through psycopg."""
    db = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        **{
            key: value
            for key, value in {
                "dbname": db["NAME"],
                "user": db["USER"],
                "password": db["PASSWORD"],
                "host": db["HOST"],
                "port": db["PORT"],
            }.items()
            if value
        }
    )
    counter = iter(range(total))

    def client() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'SET search_path = "{schema}", public')
            for index in counter:
                conn.execute(targets[index % len(targets)].baseline_sql).fetchall()

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    with Timer() as timer:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return total / timer.seconds


def _worker_peak_rss_mb(master_pid: int) -> float:
    """Largest VmHWM (peak resident set) among the master's worker processes."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


LIST_REQUESTS = {"small": 400, "large": 2000}


def _sorted_list_load(log) -> list[Figure]:
    """The filtered guest list sorted by a custom field (without and with an index), as
    the api suite measures it with one client, here with CLIENT_THREADS concurrent
    clients against gunicorn; baseline: the same queries raw from as many threads."""
    from django_tenants.utils import tenant_context

    from crm.models import Guest
    from saas.bench.custom_filter import DISTINCT_CODES, SCALES, _prepare, _tenant
    from tenants.access.selectors import administrators
    from tenants.integrations.services import api_key_create

    scale = os.environ.get("BENCH_SCALE", "small")
    guests, fields, indexed = SCALES.get(scale, SCALES["small"])
    total = LIST_REQUESTS.get(scale, LIST_REQUESTS["small"])
    tenant = _tenant()
    host = tenant.get_primary_domain().domain
    with tenant_context(tenant):
        if not Guest.objects.filter(surname="Guest0000001").exists():
            _prepare(guests, fields, indexed, log)
        token = api_key_create(
            name="bench-list-load",
            user=administrators().first(),
            scopes=["*"],
            actor=Principal.system("benchmark"),
        ).plaintext
    codes = [f"A{(i * 71) % DISTINCT_CODES}" for i in range(40)]
    plain = f"extra_{fields - 3:02d}"  # never indexed at either scale (as in the api suite)
    figures = []
    port = _free_port()
    log(f"loadtest: sorted guest list, gunicorn with {WORKERS} workers, {total} requests each")
    proc = _gunicorn(port)
    try:
        _wait_ready(port, proc, host)
        for label, field, cast in (
            ("a non-indexed", plain, ""),
            ("an indexed", "points", "::numeric"),
        ):
            targets = [
                Target(
                    f"/api/v1/guests/?custom.area_code={code}&ordering=-custom.{field}&limit=100",
                    f"SELECT * FROM crm_guest WHERE (custom ->> 'area_code') = '{code}' "
                    f"ORDER BY (custom ->> '{field}'){cast} DESC NULLS LAST, id LIMIT 100",
                )
                for code in codes
            ]
            _drive(port, token, targets, WORKERS * 10, host)  # warm every worker
            latencies, errors, seconds = _drive(port, token, targets, total, host)
            if errors:
                log(f"loadtest: {len(errors)} errors, first: {errors[0]}")
            raw_rps = _raw_baseline(tenant.schema_name, targets, total)
            figures += [
                Figure(
                    name=f"API list sorted by {label} custom field, {CLIENT_THREADS} clients",
                    value=round(total / seconds, 1),
                    unit="req/s",
                    baseline=round(raw_rps, 1),
                    notes=f"{WORKERS} gunicorn workers; p50 {p50(latencies):.1f} ms, "
                    f"p95 {p95(latencies):.1f} ms, {len(errors)} errors; baseline: the same "
                    "queries through psycopg from as many threads",
                ),
                Figure(
                    name=f"API list sorted by {label} custom field, {CLIENT_THREADS} clients, "
                    "errors",
                    value=len(errors),
                    unit="errors",
                    target="== 0",
                ),
            ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return figures


def run(log) -> list[Figure]:
    figures = _sorted_list_load(log)
    scale = os.environ.get("BENCH_SCALE", "small")
    total = REQUESTS.get(scale, REQUESTS["small"])
    tenant, token, guest_id = _tenant_ready(log)
    targets = _targets(guest_id)
    port = _free_port()
    log(f"loadtest: gunicorn with {WORKERS} workers on 127.0.0.1:{port}, {total} requests")
    proc = _gunicorn(port)
    try:
        _wait_ready(port, proc)
        # Warm every worker (imports, connections) before measuring.
        _drive(port, token, targets, WORKERS * 20)
        latencies, errors, seconds = _drive(port, token, targets, total)
        peak_mb = _worker_peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    raw_rps = _raw_baseline(tenant.schema_name, targets, total)
    if errors:
        log(f"loadtest: {len(errors)} errors, first: {errors[0]}")
    paths = ", ".join(t.path for t in targets)
    return figures + [
        Figure(
            name=f"Load test throughput ({WORKERS} gunicorn workers, {CLIENT_THREADS} clients)",
            value=round(total / seconds, 1),
            unit="req/s",
            baseline=round(raw_rps, 1),
            notes=f"GET {paths} in turn, API-key auth; baseline: the same SQL through psycopg",
        ),
        Figure(name="Load test latency p50", value=round(p50(latencies), 1), unit="ms"),
        Figure(name="Load test latency p95", value=round(p95(latencies), 1), unit="ms"),
        Figure(name="Load test errors", value=len(errors), unit="errors", target="== 0"),
        Figure(name="Load test peak memory per worker", value=peak_mb, unit="MB"),
    ]
