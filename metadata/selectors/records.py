"""Filtering and sorting records by custom (and standard) fields.

Operators: eq, ne, in, gt, gte, lt, lte, contains, isnull. A custom field is compared
through the same SQL expression its index is built on (``value_expression``), so on a
filterable field PostgreSQL can use the index; values are coerced by the field's type
first (a date filter accepts what a date field accepts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL

from metadata.definitions import ObjectSnapshot, object_snapshot
from metadata.models import FieldDefinition, FieldType, Record
from metadata.services.indexes import NUMERIC, value_expression
from metadata.types import FieldValueError, coerce

OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "isnull")
_DJANGO = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in"}


def records_queryset(*, object_api_name: str) -> QuerySet:
    """All records of an object: the built-in model's rows or the object's generic rows."""
    snap = object_snapshot(object_api_name)
    if snap.builtin is None:
        return Record.objects.filter(object_id=snap.definition.pk)
    return snap.model()._default_manager.all()


def _output_field(field: FieldDefinition) -> models.Field:
    if field.type == FieldType.MULTI_CHOICE:
        return models.JSONField()
    if field.type in NUMERIC or field.type == FieldType.MONEY:
        return models.DecimalField()
    return models.TextField()


def _annotate(queryset: QuerySet, snap: ObjectSnapshot, field: FieldDefinition) -> str:
    alias = f"_cf_{field.api_name}"
    if alias not in queryset.query.annotations:
        table = queryset.model._meta.db_table
        # The SQL is built from a validated api name ([a-z0-9_]) and the model's table:
        # no user text reaches it; values are bound parameters of the lookups.
        sql = value_expression(snap, field, table=table)
        expression = RawSQL(sql, [], _output_field(field))  # noqa: S611
        queryset.query.add_annotation(expression, alias)
    return alias


def _comparable(field: FieldDefinition, raw: Any) -> Any:
    try:
        value = coerce(field, raw) if field.type != FieldType.REFERENCE else int(raw)
    except (FieldValueError, TypeError, ValueError) as exc:
        message = getattr(exc, "message", "is not a valid value")
        raise ValidationError({field.api_name: f"Filter value {raw!r} {message}"}) from None
    if isinstance(value, dict):  # money: compare the amount
        return Decimal(str(value["amount"]))
    if field.type in NUMERIC:
        return Decimal(str(value))
    if field.type == FieldType.BOOLEAN:
        return "true" if value else "false"
    return value


def _condition(queryset, snap, name: str, op: str, raw: Any) -> tuple[QuerySet, Q]:
    if op not in OPERATORS:
        raise ValidationError(
            {
                name: ValidationError(
                    f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}.", code="operator"
                )
            }
        )
    field = snap.active_fields.get(name)
    if field is None:
        return queryset, _standard_condition(queryset.model, name, op, raw)
    alias = _annotate(queryset, snap, field)
    if op == "isnull":
        return queryset, Q(**{f"{alias}__isnull": _truthy(raw)})
    if op == "contains":
        if field.type == FieldType.MULTI_CHOICE:
            values = raw if isinstance(raw, list) else [raw]
            return queryset, Q(**{f"{alias}__contains": coerce(field, values)})
        return queryset, Q(**{f"{alias}__icontains": str(raw)})
    if field.type == FieldType.MULTI_CHOICE:
        raise ValidationError({name: "Multiple-choice fields take contains or isnull."})
    if op == "in":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return queryset, Q(**{f"{alias}__in": [_comparable(field, v) for v in items]})
    value = _comparable(field, raw)
    if op == "ne":
        return queryset, ~Q(**{alias: value}) | Q(**{f"{alias}__isnull": True})
    return queryset, Q(**{f"{alias}__{_DJANGO[op]}": value})


def _truthy(raw: Any) -> bool:
    return raw is True or str(raw).lower() in ("true", "1", "yes")


def _standard_condition(model, name: str, op: str, raw: Any) -> Q:
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ValidationError(
            {name: ValidationError(f"There is no field named {name!r}.", code="field")}
        ) from None
    if model_field.is_relation and not model_field.many_to_one:
        raise ValidationError(
            {name: ValidationError(f"{name} cannot be filtered on.", code="field")}
        )
    if model_field.name in ("custom", "data") or getattr(model_field, "encrypted", False):
        raise ValidationError(
            {name: ValidationError(f"{name} cannot be filtered on.", code="field")}
        )
    lookup = model_field.attname if model_field.many_to_one else name
    if op == "isnull":
        return Q(**{f"{lookup}__isnull": _truthy(raw)})
    if op == "contains":
        return Q(**{f"{lookup}__icontains": raw})
    if op == "in":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return Q(**{f"{lookup}__in": items})
    if op == "ne":
        return ~Q(**{lookup: raw})
    return Q(**{f"{lookup}__{_DJANGO[op]}": raw})


def custom_filter(
    queryset: QuerySet,
    *,
    object_api_name: str,
    filters: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    order_by: list[str] = (),  # type: ignore[assignment]
) -> QuerySet:
    """Apply ``filters`` (field, operator, value) and ``order_by`` ("field" or "-field")
    to ``queryset``. Invalid fields, operators or values raise ValidationError naming the
    field. Custom fields sort with empty values last; the primary key breaks ties."""
    snap = object_snapshot(object_api_name)
    queryset = queryset.all()
    for name, op, raw in filters:
        if isinstance(raw, str) and "\x00" in raw:
            raise ValidationError({name: "Filter values cannot contain NUL characters."})
        try:
            queryset, condition = _condition(queryset, snap, name, op, raw)
            queryset = queryset.filter(condition)
        except (ValueError, TypeError) as exc:
            raise ValidationError({name: f"Invalid filter value: {exc}"}) from None
    ordering = []
    for item in order_by:
        descending = item.startswith("-")
        name = item.lstrip("-")
        field = snap.active_fields.get(name)
        if field is not None:
            alias = _annotate(queryset, snap, field)
            expression = F(alias)
        else:
            _standard_condition(queryset.model, name, "isnull", False)  # validates the name
            expression = F(name)
        ordering.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    if ordering:
        queryset = queryset.order_by(*ordering, "pk")
    return queryset
