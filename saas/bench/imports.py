"""Guest CSV import through the import service (validation, upsert keys, contact
rows, audit rows) next to PostgreSQL COPY of the same file into a plain table."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import psycopg
from django.db import connection
from django_tenants.utils import schema_context

from saas.bench import Figure, Timer
from saas.bench.provisioning import _conninfo
from tenants.access.principal import Principal
from tenants.selectors import tenant_get_by_slug
from tenants.services.provisioning import tenant_create

BENCH = Principal.system("benchmark")

# The 200k-row import is the figure hotel groups ask about (a PMS history load), so
# it runs at every scale.
ROWS = {"small": 200_000, "large": 200_000}
HEADER = [
    "external_id",
    "given_name",
    "surname",
    "birth_date",
    "email",
    "phone",
    "nationality",
    "language",
    "vip_level",
    "tags",
]


def _write_file(path: Path, count: int) -> None:
    countries = [
        ("PT", "351", "pt"),
        ("GB", "44", "en"),
        ("HK", "852", "zh-hant"),
        ("DE", "49", "de"),
        ("JP", "81", "ja"),
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(count):
            country, dial, lang = countries[i % len(countries)]
            writer.writerow(
                [
                    f"B{i:08d}",
                    f"Given{i}",
                    f"Surname{i % 9973}",
                    f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    f"guest{i}@example.com",
                    f"+{dial}9{i:08d}",
                    country,
                    lang,
                    i % 4,
                    "business" if i % 3 else "leisure,spa",
                ]
            )


def _tenant():
    tenant = tenant_get_by_slug(slug="bench-import")
    if tenant is None:
        tenant = tenant_create(
            name="Bench Import Group",
            slug="bench-import",
            domain="bench-import.bench.localhost",
            admin_email="ops@bench-import.example",
            currency="EUR",
            languages=["en"],
            send_welcome_email=False,
        ).tenant
    return tenant


def run(log) -> list[Figure]:
    from crm.services.imports import import_file

    scale = os.environ.get("BENCH_SCALE", "small")
    count = ROWS.get(scale, ROWS["small"])
    tenant = _tenant()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "guests.csv"
        log(f"imports: writing {count:,} guest rows")
        _write_file(path, count)

        log("imports: COPY baseline")
        with psycopg.connect(_conninfo(), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS public.bench_guest_copy")
            columns = ", ".join(f"{name} text" for name in HEADER)
            conn.execute(f"CREATE TABLE public.bench_guest_copy ({columns})")
            with (
                Timer() as copy_timer,
                conn.cursor() as cur,
                cur.copy(
                    "COPY public.bench_guest_copy FROM STDIN WITH (FORMAT csv, HEADER)"
                ) as copy,
                path.open("rb") as fh,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
            copied = (
                conn.execute("SELECT count(*) FROM public.bench_guest_copy").fetchone() or [0]
            )[0]
            conn.execute("DROP TABLE public.bench_guest_copy")

        log("imports: import service")
        with schema_context(tenant.schema_name):
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE crm_guest, crm_guestemail, crm_guestphone, crm_guestexternalid, "
                    "crm_guestaddress, crm_recordchange CASCADE"
                )
            with Timer() as timer:
                report = import_file(
                    object_api_name="guest",
                    path=path,
                    dry_run=False,
                    actor=BENCH,
                )
    if report["created"] != count or copied != count:
        raise RuntimeError(f"imported {report['created']}, copied {copied}, expected {count}")
    rate, copy_rate = count / timer.seconds, count / copy_timer.seconds
    notes = (
        "service: parse + validate every cell (dates, e-mail, E.164 phone, codes), "
        "upsert keys, guest + e-mail + phone + external id + audit rows, COPY in "
        "2,000-row chunks; baseline: COPY of the raw CSV into one text table"
    )
    return [
        Figure(
            name=f"Guest CSV import, {count:,} rows",
            value=round(timer.seconds, 2),
            unit="s",
            baseline=round(copy_timer.seconds, 2),
            target="< 120",
            notes=notes,
        ),
        Figure(
            name=f"Guest CSV import rate, {count:,} rows",
            value=round(rate),
            unit="rows/s",
            baseline=round(copy_rate),
            target="> 2000",
            notes=notes,
        ),
    ]
