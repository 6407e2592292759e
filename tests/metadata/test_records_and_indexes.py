"""Tenant-defined objects with references, the custom-field selector, and per-tenant
expression indexes that PostgreSQL really uses."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import Guest
from metadata.models import FieldDefinition
from metadata.selectors.records import custom_filter, records_queryset
from metadata.services.definitions import (
    MAX_INDEXED_PER_OBJECT,
    custom_field_create,
    custom_field_update,
    object_definition_create,
)
from metadata.services.records import record_create, record_update
from tenants.errors import Conflict
from tenants.jobs.models import Job
from tenants.jobs.services import job_run
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _run_index_jobs() -> None:
    for job in Job.objects.filter(kind="metadata.index_build", status="queued"):
        job_run(job_id=str(job.pk))


def test_tenant_object_with_a_reference_to_guests(tenant_a):
    with tenant_context(tenant_a):
        object_definition_create(
            api_name="wellness_plan",
            label="Wellness plan",
            label_plural="Wellness plans",
            module="service",
            translations={"zh-hans": {"label": "健康计划"}},
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="wellness_plan",
            api_name="guest",
            label="Guest",
            type="reference",
            reference_object="guest",
            required=True,
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="wellness_plan",
            api_name="sessions",
            label="Sessions",
            type="integer",
            actor=SYSTEM,
        )
        ana, bo = make_guest(given_name="Ana"), make_guest(given_name="Bo")
        first = record_create(
            object_api_name="wellness_plan",
            name="Yoga",
            data={"guest": ana.pk, "sessions": "4"},
            actor=SYSTEM,
        )
        record_create(
            object_api_name="wellness_plan",
            name="Pilates",
            data={"guest": bo.pk, "sessions": 8},
            actor=SYSTEM,
        )
        with pytest.raises(ValidationError) as exc:
            record_create(
                object_api_name="wellness_plan", name="Ghost", data={"guest": 10**9}, actor=SYSTEM
            )
        assert exc.value.error_dict["guest"][0].code == "reference"
        with pytest.raises(ValidationError) as exc:
            record_create(object_api_name="wellness_plan", name="Nobody", data={}, actor=SYSTEM)
        assert exc.value.error_dict["guest"][0].code == "required"

        found = custom_filter(
            records_queryset(object_api_name="wellness_plan"),
            object_api_name="wellness_plan",
            filters=[("guest", "eq", ana.pk)],
        )
        assert [r.name for r in found] == ["Yoga"]
        ordered = custom_filter(
            records_queryset(object_api_name="wellness_plan"),
            object_api_name="wellness_plan",
            order_by=["-sessions"],
        )
        assert [r.name for r in ordered] == ["Pilates", "Yoga"]
        record_update(record=first, data={"sessions": 5}, actor=SYSTEM)
        first.refresh_from_db()
        assert first.data == {"guest": ana.pk, "sessions": 5}


@pytest.mark.parametrize(
    "op, value, expected",
    [
        ("eq", "gold", ["A"]),
        ("ne", "gold", ["B", "C"]),
        ("in", "gold,silver", ["A", "B"]),
        ("isnull", True, ["C"]),
        ("contains", "OL", ["A"]),
    ],
)
def test_selector_operators_on_text(tenant_a, op, value, expected):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="tier", label="Tier", type="text", actor=SYSTEM
        )
        for name, tier in (("A", "gold"), ("B", "silver"), ("C", None)):
            make_guest(given_name=name, surname="Op", custom={"tier": tier} if tier else {})
        rows = custom_filter(
            Guest.objects.filter(surname="Op"),
            object_api_name="guest",
            filters=[("tier", op, value)],
            order_by=["given_name"],
        )
        assert [g.given_name for g in rows] == expected


def test_selector_compares_numbers_money_and_dates_by_value(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="stay_count",
            label="N",
            type="integer",
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="guest", api_name="spend", label="S", type="money", actor=SYSTEM
        )
        custom_field_create(
            object_api_name="guest", api_name="since", label="D", type="date", actor=SYSTEM
        )
        for name, nights, spend, since in (
            ("A", 9, "100", "2024-01-31"),
            ("B", 10, "20.5", "2025-06-01"),
            ("C", 100, "3000", "2023-12-01"),
        ):
            make_guest(
                given_name=name,
                surname="Num",
                custom={"stay_count": nights, "spend": spend, "since": since},
            )
        base = Guest.objects.filter(surname="Num")

        def names(filters, order=("given_name",)):
            rows = custom_filter(
                base, object_api_name="guest", filters=filters, order_by=list(order)
            )
            return [g.given_name for g in rows]

        assert names([("stay_count", "gte", "10")]) == ["B", "C"]  # 100 > 10 as numbers
        assert names([("spend", "lt", "50")]) == ["B"]
        assert names([("since", "gt", "2024-01-01")]) == ["A", "B"]
        assert names([], order=["-stay_count"]) == ["C", "B", "A"]
        with pytest.raises(ValidationError) as exc:
            names([("stay_count", "gte", "many")])
        assert "stay_count" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            names([("stay_count", "between", "1")])
        assert exc.value.error_dict["stay_count"][0].code == "operator"


def test_index_budget_per_object(tenant_a):
    with tenant_context(tenant_a):
        for i in range(MAX_INDEXED_PER_OBJECT):
            custom_field_create(
                object_api_name="guest",
                api_name=f"idx{i:02d}",
                label="I",
                type="text",
                filterable=True,
                actor=SYSTEM,
            )
        with pytest.raises(Conflict) as exc:
            custom_field_create(
                object_api_name="guest",
                api_name="one_more",
                label="I",
                type="text",
                filterable=True,
                actor=SYSTEM,
            )
        assert exc.value.code == "index_budget"


def test_filter_on_an_indexed_field_over_100k_guests_uses_the_index(tenant_a):
    with tenant_context(tenant_a):
        field = custom_field_create(
            object_api_name="guest",
            api_name="loyalty_no",
            label="Loyalty no.",
            type="text",
            actor=SYSTEM,
        )
        custom_field_create(
            object_api_name="guest",
            api_name="points",
            label="Points",
            type="integer",
            actor=SYSTEM,
        )
        # 100k guests copied from one real guest row, each with its own custom values.
        template = make_guest(given_name="G", surname="Template")
        columns = [
            f.column
            for f in Guest._meta.concrete_fields
            if f.column not in ("id", "surname", "custom")
        ]
        column_list = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO crm_guest ({column_list}, surname, custom) "
                f"SELECT {column_list}, 'Bulk' || n, jsonb_build_object('loyalty_no', 'L' || n, "
                "'points', n %% 5000) FROM crm_guest, generate_series(1, 100000) AS n "
                "WHERE crm_guest.id = %s",
                [template.pk],
            )
            cursor.execute("ANALYZE crm_guest")
        custom_field_update(
            object_api_name="guest", api_name="loyalty_no", filterable=True, actor=SYSTEM
        )
        custom_field_update(
            object_api_name="guest", api_name="points", filterable=True, actor=SYSTEM
        )
        field.refresh_from_db()
        assert field.index_status == FieldDefinition.IndexStatus.PENDING
        _run_index_jobs()
        field.refresh_from_db()
        assert field.index_status == FieldDefinition.IndexStatus.READY

        queryset = custom_filter(
            Guest.objects.all(), object_api_name="guest", filters=[("loyalty_no", "eq", "L4242")]
        )
        assert [g.surname for g in queryset] == ["Bulk4242"]
        plan = json.loads(queryset.explain(format="json"))
        assert field.index_name in json.dumps(plan)

        ranged = custom_filter(
            Guest.objects.all(),
            object_api_name="guest",
            filters=[("points", "gte", "4990")],
            order_by=["-points"],
        )[:100]
        assert len(list(ranged)) == 100
        points = FieldDefinition.objects.get(api_name="points")
        assert points.index_name in ranged.explain()


def test_a_sort_companion_makes_the_filtered_sorted_list_an_index_range(tenant_a):
    """Lists filtered by one field and sorted by another read one composite index in
    order (descending, empty values last, as the API sorts); changing the companion
    rebuilds the index and drops the old shape."""
    from django.db import connection

    from metadata.models import FieldDefinition
    from metadata.services.definitions import custom_field_create, custom_field_update
    from metadata.services.indexes import index_build
    from tenants.jobs.models import Job

    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="area", label="Area", type="text", actor=SYSTEM
        )
        custom_field_create(
            object_api_name="guest", api_name="score", label="Score", type="integer",
            actor=SYSTEM,
        )  # fmt: skip
        custom_field_update(object_api_name="guest", api_name="area", filterable=True,
                            actor=SYSTEM)  # fmt: skip
        custom_field_update(object_api_name="guest", api_name="area", index_sort_field="score",
                            actor=SYSTEM)  # fmt: skip
        for job in Job.objects.filter(kind="metadata.index_build").order_by("created"):
            index_build(job)
        field = FieldDefinition.objects.get(api_name="area")
        assert field.index_status == "ready" and field.index_name.endswith("_s_score_idx")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname LIKE %s",
                [field.index_prefix.replace("_", r"\_") + "%"],
            )
            indexes = cursor.fetchall()
        assert len(indexes) == 1, indexes  # the field's first index (no companion) is gone
        assert "DESC NULLS LAST" in indexes[0][1] and "score" in indexes[0][1]
        with pytest.raises(ValidationError) as refused:
            custom_field_update(object_api_name="guest", api_name="area",
                                index_sort_field="nope", actor=SYSTEM)  # fmt: skip
        assert "index_sort_field" in refused.value.message_dict
