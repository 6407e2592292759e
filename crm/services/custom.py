"""The one path every custom-field value write of crm goes through.

On this branch no custom fields exist yet, so only an empty set of values is valid. At
integration this function calls the metadata engine's
``metadata.services.values.custom_values_clean`` with the same arguments."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def custom_clean(
    *,
    object_api_name: str,
    values: dict,
    existing: dict | None = None,
    partial: bool = False,
) -> dict:
    """Validate and coerce custom values of one record; returns the full ``custom`` dict
    to store. Raises ValidationError keyed by field api name (here: ``custom``)."""
    if not isinstance(values, dict):
        raise ValidationError({"custom": "Custom values must be an object of field: value."})
    if values:
        names = ", ".join(sorted(str(k) for k in values))
        raise ValidationError(
            {"custom": f"No custom field named {names} exists on {object_api_name}."},
            code="unknown_custom_field",
        )
    return dict(existing or {}) if partial else {}
