"""Guests filtered by an indexed custom field and sorted, 100 per page, through the
metadata selector and JSON encoding, next to the same query run raw through psycopg
(plus the same JSON encoding).

Small scale: 100k guests with 6 custom fields, 2 indexed. Large: 1M guests with 30
custom fields, 10 indexed. Rows are generated deterministically in SQL."""

from __future__ import annotations

import json
import os

import psycopg
from django.db import connection
from django_tenants.utils import tenant_context

from saas.bench import Figure, Timer, bench_tenant, p50, p95
from tenants.access.principal import Principal

BENCH = Principal.system("benchmark")

SCALES = {"small": (100_000, 6, 2), "large": (1_000_000, 30, 10)}
RUNS = 60
DISTINCT_CODES = 1000  # each code matches guests / 1000 rows


def _tenant():
    return bench_tenant("benchcf", "Custom Filter Bench")


def _prepare(guests: int, fields: int, indexed: int, log) -> None:
    from crm.models import Guest
    from crm.services.guests import guest_create
    from metadata.services.definitions import custom_field_create, custom_field_update
    from tenants.jobs.models import Job
    from tenants.jobs.services import job_run

    custom_field_create(
        object_api_name="guest",
        api_name="area_code",
        label="Area",
        type="text",
        actor=BENCH,
    )
    custom_field_create(
        object_api_name="guest",
        api_name="points",
        label="Pts",
        type="integer",
        actor=BENCH,
    )
    for i in range(fields - 2):
        custom_field_create(object_api_name="guest", api_name=f"extra_{i:02d}", label=f"E{i}",
                            type="text", actor=BENCH)  # fmt: skip
    template = guest_create(given_name="Bench", surname="Template", actor=BENCH)
    columns = [
        f.column for f in Guest._meta.concrete_fields if f.column not in ("id", "surname", "custom")
    ]
    column_list = ", ".join(f'"{c}"' for c in columns)
    extras = "".join(f", 'extra_{i:02d}', 'x' || (n %% 97)" for i in range(fields - 2))
    log(f"custom_filter: generating {guests:,} guests with {fields} custom fields")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO crm_guest ({column_list}, surname, custom) "
            f"SELECT {column_list}, 'Guest' || lpad(n::text, 7, '0'), jsonb_build_object("
            f"'area_code', 'A' || (n %% {DISTINCT_CODES}), 'points', (n::bigint * 7919) %% 100000"
            f"{extras}) FROM crm_guest, generate_series(1, %s) AS n WHERE crm_guest.id = %s",
            [guests, template.pk],
        )
        cursor.execute("ANALYZE crm_guest")
    log(f"custom_filter: building {indexed} indexes")
    custom_field_update(
        object_api_name="guest",
        api_name="area_code",
        filterable=True,
        actor=BENCH,
    )
    custom_field_update(
        object_api_name="guest",
        api_name="points",
        filterable=True,
        actor=BENCH,
    )
    for i in range(indexed - 2):
        custom_field_update(
            object_api_name="guest",
            api_name=f"extra_{i:02d}",
            filterable=True,
            actor=BENCH,
        )
    for job in Job.objects.filter(kind="metadata.index_build", status="queued"):
        job_run(job_id=str(job.pk))


def run(log) -> list[Figure]:
    from crm.models import Guest
    from metadata.selectors.records import custom_filter

    scale = os.environ.get("BENCH_SCALE", "small")
    guests, fields, indexed = SCALES.get(scale, SCALES["small"])
    tenant = _tenant()
    with tenant_context(tenant):
        if not Guest.objects.filter(surname="Guest0000001").exists():
            _prepare(guests, fields, indexed, log)
        codes = [f"A{(i * 37) % DISTINCT_CODES}" for i in range(RUNS)]
        columns = ["id", "given_name", "surname", "email", "custom"]

        def through_selector(code: str) -> str:
            queryset = custom_filter(
                Guest.objects.all(),
                object_api_name="guest",
                filters=[("area_code", "eq", code)],
                order_by=["surname"],
            ).values(*columns)[:100]
            return json.dumps(list(queryset))

        through_selector(codes[0])  # warm the definitions cache and the plan
        samples = []
        for code in codes:
            with Timer() as timer:
                body = through_selector(code)
            samples.append(timer.ms)
        assert body.startswith("[{")

        db = connection.settings_dict
        conninfo = psycopg.conninfo.make_conninfo(
            **{
                k: v
                for k, v in {
                    "dbname": db["NAME"],
                    "user": db["USER"],
                    "password": db["PASSWORD"],
                    "host": db["HOST"],
                    "port": db["PORT"],
                }.items()
                if v
            }
        )
        raw = []
        with psycopg.connect(conninfo) as conn:
            conn.execute(f'SET search_path = "{tenant.schema_name}", public')
            sql = (
                "SELECT id, given_name, surname, email, custom FROM crm_guest "
                "WHERE (custom ->> 'area_code') = %s ORDER BY surname, id LIMIT 100"
            )
            conn.execute(sql, [codes[0]]).fetchall()
            for code in codes:
                with Timer() as timer:
                    cursor = conn.execute(sql, [code])
                    names = [c.name for c in cursor.description or []]
                    json.dumps([dict(zip(names, r, strict=True)) for r in cursor.fetchall()])
                raw.append(timer.ms)
    label = f"{guests // 1000}k guests, {fields} custom fields, {indexed} indexed"
    return [
        Figure(
            name=f"Filtered list (indexed custom field, sorted, 100 rows) p50, {label}",
            value=round(p50(samples), 2),
            unit="ms",
            baseline=round(p50(raw), 2),
            target="< 30",
            notes="metadata selector + JSON; the REST API adds its own layers when it lands",
        ),
        Figure(
            name="Filtered list p95",
            value=round(p95(samples), 2),
            unit="ms",
            baseline=round(p95(raw), 2),
        ),
    ]
