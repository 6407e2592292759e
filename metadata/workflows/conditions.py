"""Condition trees: ``{"all": [...]}`` (AND), ``{"any": [...]}`` (OR), nested freely, with
leaves ``{"field": "vip_level", "op": "gte", "value": 1}``. A leaf's field is a standard
field, a custom field, or a related record's field through a registered relation
(``guest.vip_level`` on a reservation). Operators are those of the metadata selector
(``custom_filter``), which also validates fields and coerces values, so a condition means
exactly what the same filter means in a list.

A whole tree becomes one query: each leaf is a primary-key subquery through
``custom_filter``, combined with AND/OR. ``{}`` (or no leaves) is always true."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from metadata.selectors.records import OPERATORS, custom_filter, records_queryset
from metadata.workflows import registry

MAX_LEAVES = 50
MAX_DEPTH = 5


def _fail(path: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


def _split(object_api_name: str, name: Any, path: str) -> tuple[str, str, registry.Relation | None]:
    """(object, field, relation) of a leaf field: ``guest.vip_level`` on a reservation."""
    if not isinstance(name, str) or not name:
        raise _fail(path, "Name the field the condition tests.", "required")
    if "." not in name:
        return object_api_name, name, None
    head, _, rest = name.partition(".")
    if head == "custom":
        return object_api_name, rest, None
    rel = registry.relation(object_api_name, head)
    if rel is None:
        known = ", ".join(sorted(r.name for r in registry.relations_of(object_api_name)))
        raise _fail(
            path,
            f"{object_api_name} has no related record {head!r}"
            + (f" (related records: {known})." if known else "."),
            "relation",
        )
    if rest.startswith("custom."):
        rest = rest[len("custom.") :]
    if "." in rest:
        raise _fail(path, "Conditions follow one related record, not a chain.", "relation")
    return rel.target, rest, rel


def _leaves(tree: Any, path: str, depth: int = 0) -> list[tuple[str, dict]]:
    if depth > MAX_DEPTH:
        raise _fail(path, f"Conditions nest at most {MAX_DEPTH} levels deep.", "depth")
    if not isinstance(tree, dict):
        raise _fail(path, "A condition is an object: {all: [...]}, {any: [...]} or a leaf.")
    if not tree:
        return []
    groups = [k for k in ("all", "any") if k in tree]
    if groups:
        if len(tree) != 1:
            raise _fail(path, "A group has exactly one key, all or any.")
        key = groups[0]
        items = tree[key]
        if not isinstance(items, list) or not items:
            raise _fail(f"{path}.{key}", "Give a non-empty list of conditions.")
        out: list[tuple[str, dict]] = []
        for index, item in enumerate(items):
            out += _leaves(item, f"{path}.{key}[{index}]", depth + 1)
        return out
    unknown = sorted(set(tree) - {"field", "op", "value"})
    if unknown:
        raise _fail(path, f"Unknown condition keys: {', '.join(unknown)} (use field, op, value).")
    return [(path, tree)]


def conditions_clean(
    *, object_api_name: str, tree: Any, path: str = "conditions", deleted: bool = False
) -> dict:
    """Validate a tree for an object; errors name the leaf (``conditions.all[1].value``)."""
    tree = tree or {}
    leaves = _leaves(tree, path)
    if len(leaves) > MAX_LEAVES:
        raise _fail(path, f"At most {MAX_LEAVES} conditions per workflow.", "too_many")
    if leaves and not object_api_name:
        raise _fail(path, "A workflow without an object has no record to test.", "no_object")
    for leaf_path, leaf in leaves:
        op = leaf.get("op", "eq")
        if op not in OPERATORS:
            raise _fail(
                f"{leaf_path}.op",
                f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}.",
                "operator",
            )
        target, field, rel = _split(object_api_name, leaf.get("field"), f"{leaf_path}.field")
        if deleted and rel is not None:
            raise _fail(
                f"{leaf_path}.field",
                "A deleted record's related records are gone; test its own fields.",
                "relation",
            )
        try:
            # Builds (never runs) the filter: the selector checks field, operator, value.
            custom_filter(
                records_queryset(object_api_name=target).none(),
                object_api_name=target,
                filters=[(field, op, leaf.get("value"))],
            )
        except ValidationError as exc:
            raise _fail(
                f"{leaf_path}.field" if _is_field_error(exc) else f"{leaf_path}.value",
                "; ".join(exc.messages),
                _code(exc),
            ) from None
    return tree


def _code(exc: ValidationError) -> str:
    errors = [e for es in exc.error_dict.values() for e in es] if hasattr(exc, "error_dict") else []
    return next((e.code for e in errors if e.code), None) or "invalid"


def _is_field_error(exc: ValidationError) -> bool:
    if hasattr(exc, "error_dict"):
        return any(e.code == "field" for errors in exc.error_dict.values() for e in errors)
    return False


def _q(object_api_name: str, tree: dict) -> Q:
    if not tree:
        return Q()
    if "all" in tree or "any" in tree:
        parts = [_q(object_api_name, item) for item in tree.get("all") or tree.get("any") or []]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if "all" in tree else (combined | part)
        return combined
    target, field, rel = _split(object_api_name, tree["field"], "conditions")
    matching = custom_filter(
        records_queryset(object_api_name=target),
        object_api_name=target,
        filters=[(field, tree.get("op", "eq"), tree.get("value"))],
    ).values("pk")
    if rel is None:
        return Q(pk__in=matching)
    return Q(**{f"{rel.column}__in": matching})


def conditions_queryset(*, object_api_name: str, tree: dict) -> QuerySet:
    """Every record of the object that meets the tree (one query)."""
    return records_queryset(object_api_name=object_api_name).filter(_q(object_api_name, tree))


def conditions_met(*, object_api_name: str, record_id: str, tree: dict) -> bool:
    if not tree:
        return True
    return (
        conditions_queryset(object_api_name=object_api_name, tree=tree)
        .filter(pk=record_id)
        .exists()
    )


# --- old and new values of an event (record updated / deleted) ------------------------


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def value_matches(actual: Any, op: str, expected: Any) -> bool:
    """The selector's operators over plain values (an event's old or new value)."""
    if isinstance(actual, dict) and "amount" in actual:  # money
        actual = actual["amount"]
    if op == "isnull":
        empty = actual in (None, "", [])
        return empty if str(expected).lower() in ("true", "1", "yes") else not empty
    if op == "contains":
        if isinstance(actual, list):
            wanted = expected if isinstance(expected, list) else [expected]
            return all(str(w) in [str(a) for a in actual] for w in wanted)
        return str(expected).lower() in str(actual or "").lower()
    if op == "in":
        items = expected if isinstance(expected, list) else str(expected).split(",")
        return any(_equal(actual, item) for item in items)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    a, b = _number(actual), _number(expected)
    if a is None or b is None:
        if actual is None:
            return False
        a, b = str(actual), str(expected)  # type: ignore[assignment]  # ISO dates compare
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]  # type: ignore[operator]


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a == b
    return str(actual if actual is not None else "") == str(
        expected if expected is not None else ""
    )


def field_value(values: dict, name: str) -> Any:
    """``status`` or ``custom.tier`` (or a custom field by its bare name) in an event's
    values."""
    if name.startswith("custom."):
        return (values.get("custom") or {}).get(name[len("custom.") :])
    if name in values:
        return values[name]
    return (values.get("custom") or {}).get(name)


def values_meet(values: dict, tree: dict) -> bool:
    """The tree over a deleted record's last values (its own fields only)."""
    if not tree:
        return True
    if "all" in tree:
        return all(values_meet(values, item) for item in tree["all"])
    if "any" in tree:
        return any(values_meet(values, item) for item in tree["any"])
    return value_matches(
        field_value(values, tree["field"]), tree.get("op", "eq"), tree.get("value")
    )
