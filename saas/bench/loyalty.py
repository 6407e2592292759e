"""The loyalty ledger (issue 20): earn entries posted through the service that posts a
checked-out stay's points (``stay_sync``: member lock, due expiry, the earn entry, the
new balance, the tier check) one stay per transaction, and through its set-based form
for many stays (``stays_sync_many``); and a member's balance read through the selector and the
API, each beside the same rows written or read raw through psycopg.

Members and their checked-out stays are copied in SQL from one enrolled through the
services (small: 2,000 members; large: 20,000, not yet the 1M of the issue's target)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import psycopg
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from saas.bench import Figure, Timer, columns_of, p50
from saas.bench.api import _conninfo
from saas.bench.custom_filter import _tenant
from tenants.access.principal import Principal

BENCH = Principal.system("benchmark")

SCALES = {"small": 2_000, "large": 20_000}
READS = 200


def _prepare(members: int, log) -> tuple[list[int], list[int]]:
    """``members`` members, each with one checked-out stay not yet posted; returns the
    member ids and the reservation ids."""
    from crm.loyalty.models import Member
    from crm.loyalty.services.members import member_enrol
    from crm.loyalty.services.programme import programme_update, tier_create
    from crm.models import Guest, Property, Reservation
    from crm.services.guests import guest_create
    from crm.services.properties import property_create
    from crm.services.reservations import reservation_create
    from metadata.services.modules import module_set_enabled

    module_set_enabled(key="loyalty", enabled=True, actor=BENCH)
    programme_update(points_per_unit="1", expiry_months=24, qualification_months=12, actor=BENCH)
    tier_create(key="blue", name="Blue", rank=0, actor=BENCH)
    tier_create(key="gold", name="Gold", rank=1, min_nights=1000, min_stays=500, actor=BENCH)
    hotel = Property.objects.filter(code="LOYB").first() or property_create(
        code="LOYB", name="Loyalty Bench Hotel", country="PT", currency="EUR",
        timezone="Europe/Lisbon", actor=BENCH,
    )  # fmt: skip
    guest = guest_create(given_name="Loyal", surname="Template", actor=BENCH)
    member = member_enrol(guest=guest, actor=BENCH)
    day = timezone.localdate()
    stay = reservation_create(
        property=hotel,
        guest=guest,
        confirmation_number="LB-TEMPLATE",
        arrival=day - timedelta(days=5),
        departure=day - timedelta(days=3),
        total_amount=Decimal("300.00"),
        actor=BENCH,
    )
    log(f"loyalty: copying {members:,} members with a checked-out stay each")
    guest_cols = columns_of(Guest, {"id", "surname"})
    member_cols = columns_of(Member, {"id", "guest_id", "number"})
    stay_cols = columns_of(Reservation, {"id", "guest_id", "confirmation_number", "status"})

    def listed(cols: list[str], alias: str = "") -> str:
        return ", ".join(f'{alias}"{c}"' for c in cols)

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO crm_guest ({listed(guest_cols)}, surname) "
            f"SELECT {listed(guest_cols)}, 'Loyal' || lpad(n::text, 7, '0') "
            "FROM crm_guest, generate_series(1, %s) AS n WHERE crm_guest.id = %s",
            [members, guest.pk],
        )
        cursor.execute(
            f"INSERT INTO loyalty_member ({listed(member_cols)}, guest_id, number) "
            f"SELECT {listed(member_cols, 'm.')}, g.id, 'LB' || lpad(g.id::text, 12, '0') "
            "FROM loyalty_member m, crm_guest g "
            "WHERE m.id = %s AND g.surname LIKE 'Loyal%%' AND g.id <> %s",
            [member.pk, guest.pk],
        )
        cursor.execute(
            f"INSERT INTO crm_reservation ({listed(stay_cols)}, guest_id, confirmation_number, "
            f"status) SELECT {listed(stay_cols, 'r.')}, g.id, 'LB-' || g.id, %s "
            "FROM crm_reservation r, crm_guest g "
            "WHERE r.id = %s AND g.surname LIKE 'Loyal%%' AND g.id <> %s",
            [Reservation.Status.CHECKED_OUT, stay.pk, guest.pk],
        )
        cursor.execute("ANALYZE crm_guest; ANALYZE loyalty_member; ANALYZE crm_reservation")
    member_ids = list(
        Member.objects.exclude(pk=member.pk).order_by("pk").values_list("pk", flat=True)
    )
    stay_ids = list(
        Reservation.objects.filter(confirmation_number__startswith="LB-")
        .exclude(pk=stay.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return member_ids, stay_ids


def _raw_postings(schema: str, member_ids: list[int], stay_ids: list[int]) -> float:
    """The same physical work per posting, one transaction each: lock the member, insert
    the earn entry, update the balance."""
    with psycopg.connect(_conninfo()) as conn, Timer() as timer:
        conn.execute(f'SET search_path = "{schema}", public')
        conn.commit()
        for member_id, stay_id in zip(member_ids, stay_ids, strict=True):
            conn.execute("SELECT * FROM loyalty_member WHERE id = %s FOR UPDATE", [member_id])
            conn.execute(
                "INSERT INTO loyalty_ledgerentry (member_id, kind, source, points, remaining, "
                "expires_on, stay_on, nights, revenue, reservation_id, actor_label, reason, "
                "details, created_at) VALUES (%s, 'earn', 'reservation', 300, 300, "
                "current_date + 730, current_date - 3, 2, 300, %s, 'benchmark', %s, "
                "'{}'::jsonb, now())",
                [member_id, stay_id, f"Stay LB-{stay_id}"],
            )
            conn.execute(
                "UPDATE loyalty_member SET balance = balance + 300, "
                "lifetime_points = lifetime_points + 300, updated = now() WHERE id = %s",
                [member_id],
            )
            conn.commit()
    return timer.seconds


def _raw_batch_postings(schema: str, member_ids: list[int], stay_ids: list[int]) -> float:
    """The same physical work set-based, 1,000 postings per transaction: lock the
    members, insert their entries, update their balances."""
    with psycopg.connect(_conninfo()) as conn, Timer() as timer:
        conn.execute(f'SET search_path = "{schema}", public')
        conn.commit()
        for start in range(0, len(stay_ids), 1000):
            members = member_ids[start : start + 1000]
            stays = stay_ids[start : start + 1000]
            conn.execute(
                "SELECT id FROM loyalty_member WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                [members],
            ).fetchall()
            conn.execute(
                "INSERT INTO loyalty_ledgerentry (member_id, kind, source, points, remaining, "
                "expires_on, stay_on, nights, revenue, reservation_id, actor_label, reason, "
                "details, created_at) SELECT m, 'earn', 'reservation', 300, 300, "
                "current_date + 730, current_date - 3, 2, 300, r, 'benchmark', 'Stay LB-' || r, "
                "'{}'::jsonb, now() FROM unnest(%s::bigint[], %s::bigint[]) AS t(m, r)",
                [members, stays],
            )
            conn.execute(
                "UPDATE loyalty_member SET balance = balance + 300, "
                "lifetime_points = lifetime_points + 300, updated = now() WHERE id = ANY(%s)",
                [members],
            )
            conn.commit()
    return timer.seconds


def run(log) -> list[Figure]:
    from crm.loyalty.models import LedgerEntry
    from crm.loyalty.selectors import member_get
    from crm.loyalty.services.stays import stay_sync, stays_sync_many
    from tenants.access.selectors import administrators
    from tenants.integrations.services import api_key_create

    members = SCALES.get(os.environ.get("BENCH_SCALE", "small"), SCALES["small"])
    tenant = _tenant()
    host = tenant.get_primary_domain().domain
    with tenant_context(tenant):
        member_ids, stay_ids = _prepare(members, log)
        half = len(stay_ids) // 2
        one_by_one, batched = stay_ids[:half], stay_ids[half:]
        log(f"loyalty: posting {half:,} earn entries through stay_sync, one by one")
        with Timer() as timer:
            for stay_id in one_by_one:
                with transaction.atomic():
                    written = stay_sync(reservation_id=stay_id, actor=BENCH)
                assert len(written) == 1 and written[0].kind == LedgerEntry.Kind.EARN
        log(f"loyalty: posting {len(batched):,} earn entries through stays_sync_many")
        with Timer() as batch_timer:
            assert stays_sync_many(reservation_ids=batched, actor=BENCH) == len(batched)
        assert LedgerEntry.objects.filter(reservation_id__in=stay_ids).count() == len(stay_ids)
        sample = member_ids[:: max(1, len(member_ids) // READS)][:READS]
        member_get(actor=BENCH, member_id=sample[0])
        read_ms = []
        for member_id in sample:
            with Timer() as read:
                balance = member_get(actor=BENCH, member_id=member_id).balance
            assert balance > 0
            read_ms.append(read.ms)
        user = administrators().first()
        token = api_key_create(name="bench-loyalty", user=user, scopes=["*"], actor=BENCH)
    raw_seconds = _raw_postings(tenant.schema_name, member_ids[:half], one_by_one)
    raw_batch_seconds = _raw_batch_postings(tenant.schema_name, member_ids[half:], batched)
    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    client.get(f"/api/v1/loyalty/members/{sample[0]}/")
    api_ms = []
    for member_id in sample:
        with Timer() as read:
            response = client.get(f"/api/v1/loyalty/members/{member_id}/")
        assert response.status_code == 200, response.content[:300]
        api_ms.append(read.ms)
    raw_ms = []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{tenant.schema_name}", public')
        for member_id in sample:
            with Timer() as read:
                conn.execute(
                    "SELECT balance FROM loyalty_member WHERE id = %s", [member_id]
                ).fetchone()
            raw_ms.append(read.ms)
    return [
        Figure(
            name=f"Loyalty earn postings, one stay per transaction, {half:,} members",
            value=round(half / timer.seconds),
            unit="postings/s",
            baseline=round(half / raw_seconds),
            notes="stay_sync per checked-out stay, as a checkout event posts it; baseline: "
            "lock, INSERT entry, UPDATE balance, COMMIT through psycopg",
        ),
        Figure(
            name=f"Loyalty earn postings, batched, {len(batched):,} members",
            value=round(len(batched) / batch_timer.seconds),
            unit="postings/s",
            baseline=round(len(batched) / raw_batch_seconds),
            target="> 5000",
            notes="stays_sync_many (reconciliation, bulk): 1,000 stays per transaction; "
            "baseline: per 1,000, lock the members, INSERT the entries, UPDATE the "
            "balances, COMMIT through psycopg",
        ),
        Figure(
            name="Loyalty balance read p50 (selector)",
            value=round(p50(read_ms), 2),
            unit="ms",
            baseline=round(p50(raw_ms), 2),
            target="< 5",
            notes="member_get(...).balance; baseline: SELECT balance by id",
        ),
        Figure(
            name="Loyalty balance read p50 (API, GET /loyalty/members/<id>/)",
            value=round(p50(api_ms), 2),
            unit="ms",
            baseline=round(p50(raw_ms), 2),
        ),
    ]
