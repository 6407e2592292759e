"""Filtering and sorting records by custom (and standard) fields.

Operators: eq, ne, in, gt, gte, lt, lte, contains, isnull. A custom field is compared
through the same SQL expression its index is built on (``value_expression``), so on a
filterable field PostgreSQL can use the index; values are coerced by the field's type
first (a date filter accepts what a date field accepts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL

from metadata.definitions import ObjectSnapshot, object_snapshot
from metadata.models import FieldDefinition, FieldType, Record
from metadata.services.indexes import NUMERIC, value_expression
from metadata.types import FieldValueError, coerce
from tenants.access.principal import Principal

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
            try:
                wanted = coerce(field, values)
            except FieldValueError as exc:
                raise ValidationError({name: f"Filter value {raw!r} {exc.message}"}) from None
            return queryset, Q(**{f"{alias}__contains": wanted})
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
        return Q(**{f"{lookup}__icontains": str(raw)})
    if op == "in":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return Q(**{f"{lookup}__in": [_standard_value(model_field, name, v) for v in items]})
    value = _standard_value(model_field, name, raw)
    if op == "ne":
        return ~Q(**{lookup: value})
    return Q(**{f"{lookup}__{_DJANGO[op]}": value})


_BIGINT = 2**63


def _standard_value(model_field, name: str, raw: Any) -> Any:
    """A filter value as the column's type; a value the column cannot hold (text for a
    number, a number past bigint, a malformed date) is a 400 naming the field."""
    target = model_field.target_field if model_field.many_to_one else model_field
    try:
        value = target.to_python(raw)
    except (DjangoValidationError, TypeError, ValueError):
        raise ValidationError(
            {name: ValidationError(f"{raw!r} is not a valid {name}.", code="invalid")}
        ) from None
    if isinstance(value, int) and not isinstance(value, bool) and not -_BIGINT <= value < _BIGINT:
        raise ValidationError({name: ValidationError(f"{raw!r} is out of range.", code="invalid")})
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError({name: ValidationError(f"{raw!r} is not a number.", code="invalid")})
    return value


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


# --- lists and lookups through the access policy --------------------------------------


def _search_fields(actor: Principal, object_api_name: str) -> tuple[str, ...]:
    from metadata.registry import builtin_object

    builtin = builtin_object(object_api_name)
    fields = builtin.search_fields if builtin is not None else ("name",)
    # A search reads the fields it looks in: only those the principal may read.
    return tuple(f for f in fields if actor.field_level(object_api_name, f) != "hidden")


def records_list(
    *,
    actor: Principal,
    object_api_name: str,
    filters: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    order_by: list[str] = (),  # type: ignore[assignment]
    search: str = "",
) -> QuerySet:
    """The records of an object the principal may see: the view right, the module on,
    the hotel scope (an EXISTS, never a join that needs DISTINCT), filters and ordering
    only on fields the principal may read (403 naming the field), ``search`` over the
    object's search fields the principal may read."""
    actor.require(object_api_name, "view")
    actor.require_readable(object_api_name, [name for name, _, _ in filters], purpose="filter by")
    actor.require_readable(
        object_api_name, [item.lstrip("-") for item in order_by], purpose="order by"
    )
    queryset = actor.scope(object_api_name, records_queryset(object_api_name=object_api_name))
    queryset = custom_filter(
        queryset, object_api_name=object_api_name, filters=filters, order_by=order_by
    )
    if not order_by:
        queryset = queryset.order_by("pk")
    search = (search or "").strip()
    if search:
        if "\x00" in search:
            raise ValidationError({"q": "The search cannot contain NUL characters."})
        condition = Q()
        for name in _search_fields(actor, object_api_name):
            condition |= Q(**{f"{name}__icontains": search})
        queryset = queryset.filter(condition) if condition else queryset.none()
    return queryset


def record_for(*, actor: Principal, object_api_name: str, record_id: Any, action: str = "view"):
    """One record, if the principal may do ``action`` on the object and the record is
    within their hotel scope; a 404 otherwise alike for "not there" and "not yours"
    (Zulip's access_*_by_id pattern)."""
    from tenants.errors import NotFound

    actor.require(object_api_name, action)
    try:
        pk = int(str(record_id))
    except ValueError:
        pk = None
    if pk is None or not -_BIGINT <= pk < _BIGINT:
        raise NotFound(f"No {object_api_name} with id {record_id}.", field="id")
    queryset = actor.scope(object_api_name, records_queryset(object_api_name=object_api_name))
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {object_api_name} with id {record_id}.", field="id")
    return found
