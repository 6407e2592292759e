"""Input serializers of the API refuse keys they do not know, by name, as the record
doors do: the OpenAPI document says ``additionalProperties: false`` and means it."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    """DRF turns 5 into "5" and "true" into True; a JSON API takes each type as itself."""
    if value is None:
        return None
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        problems = (_json_type_error(field.child, item) for item in value)
        return next((f"has an item that {p}" for p in problems if p), None)
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return "must be text."
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "must be true or false."
    if isinstance(field, serializers.IntegerField) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        return "must be a whole number."
    return None


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {k: [f"{k} is not a key this request takes."] for k in unknown[:20]}
                )
            wrong = {
                name: [f"{name} {problem}"]
                for name, field in self.fields.items()
                if name in data and (problem := _json_type_error(field, data[name]))
            }
            if wrong:
                # The other keys' problems are named in the same answer.
                rest = {k: v for k, v in data.items() if k not in wrong}
                try:
                    super().to_internal_value(rest)
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, dict):
                        others = {k: v for k, v in exc.detail.items() if k not in wrong}
                        wrong.update(others)  # type: ignore[arg-type]
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class JSONBooleanField(serializers.BooleanField):
    """true or false as JSON booleans only (DRF also takes "yes", "1", 0...), as the
    document says."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class KeyField(serializers.SlugField):
    """A slug without the trailing newline ``$`` lets through."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str) and data != data.strip():
            self.fail("invalid")
        return super().to_internal_value(data)


class FullDateField(serializers.DateField):
    """A date written as YYYY-MM-DD in ASCII digits only, the OpenAPI ``date`` format.
    DRF's parser (Django's ``parse_date``) also takes 2026-1-5, and its ``\\d`` takes
    other scripts' digits, which the document's clients would reject."""

    def to_internal_value(self, value: Any):
        if not isinstance(value, str) or not DATE_TEXT.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)
