"""The REST API in-process (Django's test client: middleware, tenant resolution, API-key
auth, DRF, JSON), next to the same database work done raw through psycopg.

1. Guests filtered by an indexed custom field and sorted, 100 per page.
2. One guest retrieved by id.
3. Bulk upsert of tenant-object records, 1,000 per request, against COPY of the rows.
4. The same list sorted by a custom field without and with an index; guest, company and
   reservation bulk upserts; the guest table's bytes per guest; the loyalty ledger
   (saas/bench/loyalty.py).
Uses the guests the custom_filter suite generated (it runs first)."""

from __future__ import annotations

import io
import json

import psycopg
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from saas.bench import Figure, Timer, p50, p95
from saas.bench.custom_filter import DISTINCT_CODES, _prepare, _tenant
from tenants.access.principal import Principal

BENCH = Principal.system("benchmark")

RUNS = 60
BULK_BATCHES = 5
BULK_SIZE = 1000


def _conninfo() -> str:
    db = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
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


def run(log) -> list[Figure]:
    import os

    from crm.models import Guest
    from metadata.services.definitions import custom_field_create, object_definition_create
    from saas.bench.custom_filter import SCALES
    from tenants.integrations.services import api_key_create

    tenant = _tenant()
    host = tenant.get_primary_domain().domain
    with tenant_context(tenant):
        if not Guest.objects.filter(surname="Guest0000001").exists():
            guests, fields, indexed = SCALES[os.environ.get("BENCH_SCALE", "small")]
            _prepare(guests, fields, indexed, log)
        from tenants.access.selectors import administrators

        user = administrators().first()
        token = api_key_create(name="bench", user=user, scopes=["*"], actor=BENCH).plaintext
        guest_id = Guest.objects.filter(surname="Guest0050000").values_list("pk", flat=True)[0]
        object_definition_create(
            api_name="bench_supplier",
            label="Supplier",
            label_plural="Suppliers",
            module="sales",
            actor=BENCH,
        )
        custom_field_create(
            object_api_name="bench_supplier",
            api_name="rating",
            label="Rating",
            type="integer",
            actor=BENCH,
        )
        custom_field_create(
            object_api_name="bench_supplier",
            api_name="email",
            label="E-mail",
            type="email",
            actor=BENCH,
        )
        custom_field_create(
            object_api_name="bench_supplier",
            api_name="country",
            label="Country",
            type="country",
            actor=BENCH,
        )
    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    codes = [f"A{(i * 53) % DISTINCT_CODES}" for i in range(RUNS)]

    def listed(code: str) -> None:
        response = client.get(f"/api/v1/guests/?custom.area_code={code}&ordering=surname&limit=100")
        assert response.status_code == 200, response.content[:300]

    listed(codes[0])
    list_ms = []
    for code in codes:
        with Timer() as timer:
            listed(code)
        list_ms.append(timer.ms)
    get_ms = []
    client.get(f"/api/v1/guests/{guest_id}/")
    for _ in range(RUNS):
        with Timer() as timer:
            response = client.get(f"/api/v1/guests/{guest_id}/")
        assert response.status_code == 200
        get_ms.append(timer.ms)

    raw_list, raw_get = [], []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        list_sql = (
            "SELECT * FROM crm_guest WHERE (custom ->> 'area_code') = %s "
            "ORDER BY surname, id LIMIT 100"
        )
        for code in codes:
            with Timer() as timer:
                cursor = conn.execute(list_sql, [code])
                names = [c.name for c in cursor.description or []]
                json.dumps([dict(zip(names, r, strict=True)) for r in cursor], default=str)
            raw_list.append(timer.ms)
        for _ in range(RUNS):
            with Timer() as timer:
                cursor = conn.execute("SELECT * FROM crm_guest WHERE id = %s", [guest_id])
                names = [c.name for c in cursor.description or []]
                json.dumps(dict(zip(names, cursor.fetchone() or (), strict=True)), default=str)
            raw_get.append(timer.ms)

    log(f"api: bulk upsert {BULK_BATCHES} x {BULK_SIZE} records")
    batches = [
        [
            {
                "external_id": f"SUP-{b}-{i}",
                "name": f"Supplier {b}-{i}",
                "custom": {"rating": i % 5 + 1, "email": f"s{b}x{i}@example.com", "country": "PT"},
            }
            for i in range(BULK_SIZE)
        ]
        for b in range(BULK_BATCHES)
    ]
    with Timer() as bulk_timer:
        for batch in batches:
            response = client.post(
                "/api/v1/objects/bench_supplier/records/bulk/",
                {"records": batch},
                content_type="application/json",
            )
            assert response.status_code == 200
            assert all(r["status"] == "created" for r in response.json()["results"])
    rows = BULK_BATCHES * BULK_SIZE
    buffer = io.StringIO()
    for batch in batches:
        for record in batch:
            buffer.write(
                f"{record['external_id']}\t{record['name']}\t{json.dumps(record['custom'])}\n"
            )
    with psycopg.connect(_conninfo(), autocommit=True) as conn, Timer() as copy_timer:
        conn.execute("CREATE TEMP TABLE bench_bulk (external_id text, name text, data jsonb)")
        with conn.cursor().copy("COPY bench_bulk FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    return [
        Figure(
            name="API list: 100 guests by indexed custom field, sorted, p50",
            value=round(p50(list_ms), 2),
            unit="ms",
            baseline=round(p50(raw_list), 2),
            target="< 30",
            notes="in-process HTTP (test client) with API-key auth; baseline: the query "
            "through psycopg plus JSON encoding",
        ),
        Figure(
            name="API list p50 as a multiple of the raw query + JSON",
            value=round(p50(list_ms) / p50(raw_list), 2),
            unit="x",
            target="< 3",
        ),
        Figure(
            name="API list p95",
            value=round(p95(list_ms), 2),
            unit="ms",
            baseline=round(p95(raw_list), 2),
        ),
        Figure(
            name="API retrieve one guest p50",
            value=round(p50(get_ms), 2),
            unit="ms",
            baseline=round(p50(raw_get), 2),
            target="< 4",
            notes="the profile with custom fields; target set at 1M guests (issue 17)",
        ),
        Figure(
            name="API bulk upsert (tenant-object records, 1,000 per request)",
            value=round(rows / bulk_timer.seconds),
            unit="records/s",
            baseline=round(rows / copy_timer.seconds),
            target="> 2000",
            notes="each record validated and stored on its own; baseline: COPY of the rows",
        ),
        *_sorted_lists(client, tenant, codes, log),
        *_builtin_bulks(client, tenant, log),
        *_guest_bytes(tenant),
        # The loyalty figures of issue 20 use the same tenant (they have no suite of
        # their own yet: saas/management/commands/bench.py lists the suites).
        *_loyalty(log),
    ]


def _loyalty(log) -> list[Figure]:
    from saas.bench import loyalty

    return loyalty.run(log)


def _raw_ms(tenant, sql: str, params_list: list[list]) -> list[float]:
    samples = []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        for params in params_list:
            with Timer() as timer:
                cursor = conn.execute(sql, params)
                names = [c.name for c in cursor.description or []]
                json.dumps([dict(zip(names, r, strict=True)) for r in cursor], default=str)
            samples.append(timer.ms)
    return samples


def _sorted_lists(client: Client, tenant, codes: list[str], log) -> list[Figure]:
    """The filtered list sorted by a custom field without an index and by one with one
    (empty values last, as the API sorts), beside the same query raw."""
    import os

    from saas.bench.custom_filter import SCALES

    _guests, fields, indexed = SCALES[os.environ.get("BENCH_SCALE", "small")]
    plain = f"extra_{fields - 3:02d}"  # the last extra field: never indexed at either scale
    figures = []
    for label, field, cast in (
        ("a non-indexed", plain, ""),
        ("an indexed", "points", "::numeric"),
    ):
        log(f"api: list sorted by {label} custom field")
        url = "/api/v1/guests/?custom.area_code={}&ordering=-custom." + field + "&limit=100"
        client.get(url.format(codes[0]))
        samples = []
        for code in codes:
            with Timer() as timer:
                response = client.get(url.format(code))
            assert response.status_code == 200, response.content[:300]
            samples.append(timer.ms)
        raw = _raw_ms(
            tenant,
            "SELECT * FROM crm_guest WHERE (custom ->> 'area_code') = %s "
            f"ORDER BY (custom ->> '{field}'){cast} DESC NULLS LAST, id LIMIT 100",
            [[c] for c in codes],
        )
        figures += [
            Figure(
                name=f"API list sorted by {label} custom field, 100 rows, p50",
                value=round(p50(samples), 2),
                unit="ms",
                baseline=round(p50(raw), 2),
                target="< 100" if label.startswith("a non") else "< 15",
                notes="filter on an indexed field, descending, empty values last",
            ),
            Figure(
                name=f"API list sorted by {label} custom field as a multiple of the raw query",
                value=round(p50(samples) / p50(raw), 2),
                unit="x",
                target="< 2",
            ),
        ]
    return figures


def _builtin_bulks(client: Client, tenant, log) -> list[Figure]:
    """Bulk upserts of guests, companies and reservations through the API, 1,000 per
    request, beside COPY of the same rows."""
    from crm.models import Property

    with tenant_context(tenant):
        hotel = Property.objects.filter(code="BNCH").first()
        if hotel is None:
            from crm.services.properties import property_create

            hotel = property_create(
                code="BNCH", name="Bench Hotel", country="PT", currency="EUR",
                timezone="Europe/Lisbon", actor=BENCH,
            )  # fmt: skip
    from crm.models import Guest

    with tenant_context(tenant):
        guest_ids = list(Guest.objects.order_by("pk").values_list("pk", flat=True)[:5000])
    kinds = {
        "guests": lambda b, i: {
            "external_id": f"BG-{b}-{i}",
            "given_name": "Ana",
            "surname": f"Bulk{b}x{i}",
            "emails": [f"g{b}x{i}@example.com"],
            "phones": [f"+3519{(b * 1000 + i):08d}"],
            "vip_level": i % 3,
            "custom": {"points": i, "area_code": f"A{i % 100}"},
        },
        "companies": lambda b, i: {
            "external_id": f"BC-{b}-{i}",
            "name": f"Company {b}-{i}",
            "country": "PT",
            "email": f"c{b}x{i}@example.com",
        },
        "reservations": lambda b, i: {
            "property": hotel.pk,
            "confirmation_number": f"BR-{b}-{i}",
            "guest": guest_ids[(b * 1000 + i) % len(guest_ids)],
            "arrival": "2026-12-01",
            "departure": "2026-12-03",
            "total_amount": "240.00",
        },
    }
    figures = []
    for collection, make in kinds.items():
        batches = 5 if collection != "reservations" else 2
        size = BULK_SIZE if collection != "reservations" else 500
        log(f"api: {collection} bulk {batches} x {size}")
        payloads = [[make(b, i) for i in range(size)] for b in range(batches)]
        with Timer() as timer:
            for payload in payloads:
                response = client.post(
                    f"/api/v1/{collection}/bulk/",
                    {"records": payload},
                    content_type="application/json",
                )
                assert response.status_code == 200, response.content[:300]
                statuses = {r["status"] for r in response.json()["results"]}
                assert statuses == {"created"}, response.json()["results"][:3]
        rows = batches * size
        buffer = io.StringIO()
        for payload in payloads:
            for record in payload:
                buffer.write(json.dumps(record).replace("\\", "\\\\") + "\n")
        with psycopg.connect(_conninfo(), autocommit=True) as conn, Timer() as copy_timer:
            conn.execute("CREATE TEMP TABLE bench_rows (data jsonb)")
            with conn.cursor().copy("COPY bench_rows FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        figures.append(
            Figure(
                name=f"API bulk upsert ({collection}, {size:,} per request)",
                value=round(rows / timer.seconds),
                unit="records/s",
                baseline=round(rows / copy_timer.seconds),
                target="> 10000" if collection == "guests" else None,
                notes="validated, audited and announced like single writes; baseline: COPY",
            )
        )
    return figures


def _guest_bytes(tenant) -> list[Figure]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_total_relation_size('\"{tenant.schema_name}\".crm_guest'), "
            f'(SELECT count(*) FROM "{tenant.schema_name}".crm_guest), '
            f"pg_column_size(NULL::jsonb)"
        )
        total, count, _ = cursor.fetchone()
        cursor.execute(
            f'SELECT coalesce(sum(pg_column_size(custom)), 0) FROM "{tenant.schema_name}".crm_guest'
        )
        custom = cursor.fetchone()[0]
        heap, typed = _typed_copy_bytes(cursor, tenant.schema_name)
    return [
        Figure(
            name="Guest table bytes per guest (table, TOAST and indexes)",
            value=round(total / max(count, 1)),
            unit="bytes",
            notes=f"custom values are {100 * custom / max(total, 1):.0f}% of it",
        ),
        Figure(
            name="Guest table bytes per guest (table and TOAST, no indexes)",
            value=round(heap / max(count, 1)),
            unit="bytes",
            baseline=round(typed / max(count, 1)),
            notes="baseline: the same rows copied into a table with every custom field as "
            "a typed column of its own (as a peer with real columns stores them), no indexes",
        ),
    ]


def _typed_copy_bytes(cursor, schema: str) -> tuple[int, int]:
    """(crm_guest's table + TOAST bytes, the same for a copy of its rows with each custom
    key in a typed column instead of the JSONB)."""
    cursor.execute(
        f'SELECT key, min(jsonb_typeof(value)) FROM "{schema}".crm_guest, '
        "jsonb_each(custom) GROUP BY key ORDER BY key"
    )
    kinds = {"number": "numeric", "boolean": "boolean"}
    extracted = "".join(
        f", (custom ->> '{key}')::{kinds.get(kind, 'text')} AS \"custom_{key}\""
        for key, kind in cursor.fetchall()
    )
    cursor.execute(
        "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) "
        "FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'crm_guest' AND column_name <> 'custom'",
        [schema],
    )
    columns = cursor.fetchone()[0]
    cursor.execute(
        f"CREATE TEMP TABLE bench_guest_typed AS SELECT {columns}{extracted} "
        f'FROM "{schema}".crm_guest'
    )
    cursor.execute(
        f"SELECT pg_table_size('\"{schema}\".crm_guest'), pg_table_size('bench_guest_typed')"
    )
    heap, typed = cursor.fetchone()
    cursor.execute("DROP TABLE bench_guest_typed")
    return heap, typed
