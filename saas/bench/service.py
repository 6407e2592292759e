"""The service desk (issue 22): the case queue with 100,000 open cases, as the screen
(``/service/queue/``) and as the API (``/api/v1/cases/?status=open&ordering=deadline``),
each beside the same page read raw through psycopg; and a guest's survey answer
submitted through the public page, beside the raw insert of the answer row.

Cases and their timers are copied in SQL from ones opened through the services (every
scale: 100,000, the issue's figure)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal

import psycopg
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from saas.bench import Figure, Timer, columns_of, p50
from saas.bench.api import _conninfo
from saas.bench.custom_filter import _tenant
from tenants.access.principal import Principal

BENCH = Principal.system("benchmark")
SCALES = {"small": 100_000, "large": 100_000}
READS = 60
ANSWERS = 200

QUEUE_SQL = (
    "SELECT c.*, s.*, p.name FROM crm_case c JOIN service_casesla s ON s.case_id = c.id "
    "LEFT JOIN crm_property p ON p.id = c.property_id "
    "WHERE c.status IN ('new', 'open', 'in_progress', 'escalated', 'waiting_on_guest', "
    "'reopened') "
    "ORDER BY s.next_due ASC NULLS LAST, c.id LIMIT 50"
)
API_SQL = (
    "SELECT * FROM crm_case WHERE status = 'open' ORDER BY deadline ASC NULLS LAST, id LIMIT 51"
)


def _prepare(cases: int, log) -> list[str]:
    """``cases`` open cases with running timers; returns survey links of ANSWERS stays."""
    from crm.models import Case, Property
    from crm.service.models import CaseSla
    from crm.service.services.levels import calendar_set, service_level_create
    from crm.service.services.surveys import invitation_create, link_path, survey_create
    from crm.services.cases import case_create
    from crm.services.guests import guest_create
    from crm.services.properties import property_create
    from crm.services.reservations import reservation_create
    from metadata.services.modules import module_set_enabled

    module_set_enabled(key="service", enabled=True, actor=BENCH)
    hotel = Property.objects.filter(code="SVCB").first() or property_create(
        code="SVCB", name="Service Bench Hotel", country="FR", currency="EUR",
        timezone="Europe/Paris", actor=BENCH,
    )  # fmt: skip
    calendar_set(
        property=hotel,
        hours=[{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(7)],
        holidays=[],
        actor=BENCH,
    )
    service_level_create(
        category="room", priority="high", first_response_minutes=60, resolution_minutes=480,
        actor=BENCH,
    )  # fmt: skip
    template = case_create(
        subject="Bench case", category="room", priority="high", property=hotel,
        deadline=timezone.now() + timedelta(days=2), actor=BENCH,
    )  # fmt: skip
    log(f"service: copying {cases:,} open cases with their timers")
    case_cols = columns_of(Case, {"id", "subject", "deadline"})
    sla_cols = columns_of(CaseSla, {"id", "case_id", "first_response_due"})

    def listed(cols: list[str], alias: str = "") -> str:
        return ", ".join(f'{alias}"{c}"' for c in cols)

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO crm_case ({listed(case_cols)}, subject, deadline) "
            f"SELECT {listed(case_cols, 'c.')}, 'Bench case ' || n, "
            "c.deadline + n * interval '1 minute' "
            "FROM crm_case c, generate_series(1, %s) AS n WHERE c.id = %s",
            [cases - 1, template.pk],
        )
        cursor.execute(
            f"INSERT INTO service_casesla ({listed(sla_cols)}, case_id, first_response_due) "
            f"SELECT {listed(sla_cols, 's.')}, c.id, "
            "s.first_response_due + (c.id - %s) * interval '1 minute' "
            "FROM service_casesla s, crm_case c WHERE s.case_id = %s AND c.id <> %s "
            "AND c.subject LIKE 'Bench case%%'",
            [template.pk, template.pk, template.pk],
        )
        cursor.execute("ANALYZE crm_case; ANALYZE service_casesla")
    survey = survey_create(
        key="bench-stay",
        title="How was your stay?",
        questions=[
            {"key": "nps", "kind": "nps", "text": "Recommend us?", "required": True},
            {"key": "overall", "kind": "csat", "text": "Overall"},
        ],
        case_at_nps=None,
        actor=BENCH,
    )
    links = []
    log(f"service: inviting {ANSWERS} guests to the survey")
    day = timezone.localdate()
    for n in range(ANSWERS):
        guest = guest_create(given_name="Survey", surname=f"Bench{n}", actor=BENCH)
        stay = reservation_create(
            property=hotel, guest=guest, confirmation_number=f"SVB-{n}",
            arrival=day - timedelta(days=3), departure=day - timedelta(days=1),
            total_amount=Decimal("200.00"), actor=BENCH,
        )  # fmt: skip
        links.append(
            link_path(invitation_create(survey=survey, guest=guest, reservation=stay, actor=BENCH))
        )
    return links


def _raw(schema: str, sql: str, samples: int) -> list[float]:
    out = []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{schema}", public')
        conn.execute(sql).fetchall()
        for _ in range(samples):
            with Timer() as timer:
                conn.execute(sql).fetchall()
            out.append(timer.ms)
    return out


def _raw_answers(schema: str, invitation_ids: list[int]) -> list[float]:
    out = []
    with psycopg.connect(_conninfo()) as conn:
        conn.execute(f'SET search_path = "{schema}", public')
        for invitation_id in invitation_ids:
            with Timer() as timer:
                conn.execute(
                    "INSERT INTO service_response (invitation_id, survey_id, guest_id, "
                    "reservation_id, property_id, channel, language, nps, csat, comment, "
                    "ratings, answers, times_answered, submitted_at, updated_at) "
                    "SELECT id, survey_id, guest_id, reservation_id, property_id, channel, "
                    "'en', 9, 5, '', '{}', '{\"nps\": 9, \"overall\": 5}', 1, now(), now() "
                    "FROM service_invitation WHERE id = %s "
                    "ON CONFLICT (invitation_id) DO UPDATE SET nps = 9, updated_at = now()",
                    [invitation_id],
                )
                conn.commit()
            out.append(timer.ms)
    return out


def run(log) -> list[Figure]:
    from crm.service.models import Invitation
    from tenants.access.selectors import administrators
    from tenants.integrations.services import api_key_create

    cases = SCALES.get(os.environ.get("BENCH_SCALE", "small"), SCALES["small"])
    tenant = _tenant()
    host = tenant.get_primary_domain().domain
    with tenant_context(tenant):
        links = _prepare(cases, log)
        user = administrators().first()
        token = api_key_create(name="bench-service", user=user, scopes=["*"], actor=BENCH)
        invitation_ids = list(Invitation.objects.order_by("pk").values_list("pk", flat=True))
        screen = Client(HTTP_HOST=host)
        screen.force_login(user)  # the session lives in the group's schema
    api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    log(f"service: reading the queue {READS} times (screen and API)")
    figures = []
    for name, client, path, sql, marker in (
        ("screen, /service/queue/", screen, "/service/queue/", QUEUE_SQL, b"Bench case"),
        (
            "API, /cases/?status=open&ordering=deadline",
            api,
            "/api/v1/cases/?status=open&ordering=deadline&limit=50",
            API_SQL,
            b"Bench case",
        ),
    ):
        client.get(path)
        samples = []
        for _ in range(READS):
            with Timer() as timer:
                response = client.get(path)
            assert response.status_code == 200 and marker in response.content, response.content[
                :300
            ]
            samples.append(timer.ms)
        raw = _raw(tenant.schema_name, sql, READS)
        figures.append(
            Figure(
                name=f"Service queue with {cases:,} open cases p50 ({name})",
                value=round(p50(samples), 2),
                unit="ms",
                baseline=round(p50(raw), 2),
                target="< 100",
                notes="50 cases, the next due first; baseline: the same page in one SQL "
                "statement through psycopg",
            )
        )
    log(f"service: {ANSWERS} survey answers through the public page")
    guest = Client(HTTP_HOST=host)
    answer_ms = []
    for link in links:
        page = guest.get(link)
        token_value = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
        assert token_value is not None
        with Timer() as timer:
            response = guest.post(
                link,
                {"csrfmiddlewaretoken": token_value.group(1).decode(), "q-nps": "9",
                 "q-overall": "5"},
            )  # fmt: skip
        assert response.status_code == 200, response.content[:300]
        answer_ms.append(timer.ms)
    raw_answers = _raw_answers(tenant.schema_name, invitation_ids)
    figures.append(
        Figure(
            name="Survey answer submit p50 (public page, POST)",
            value=round(p50(answer_ms), 2),
            unit="ms",
            baseline=round(p50(raw_answers), 2),
            target="< 50",
            notes="the signed link checked, the answer validated and stored with its "
            "measures; baseline: an upsert of the answer row and a commit",
        )
    )
    return figures
