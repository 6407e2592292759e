"""The one path every custom-field value write of crm goes through: the metadata
engine's validation and coercion (errors keyed by field api name, naming the rule)."""

from __future__ import annotations

from metadata.services.values import custom_values_clean


def custom_clean(
    *,
    object_api_name: str,
    values: dict,
    existing: dict | None = None,
    partial: bool = False,
    record_id: int | None = None,
) -> dict:
    """Validate and coerce custom values of one record; returns the full ``custom`` dict
    to store. Raises ValidationError keyed by field api name."""
    return custom_values_clean(
        object_api_name=object_api_name,
        values=values,
        existing=existing,
        partial=partial,
        record_id=record_id,
    )
