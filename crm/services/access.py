"""What a crm write touches, in the access policy's terms: the field names a service
hands to ``actor.require_editable`` (standard fields, related collections such as
``emails``, and each custom field by its api name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def written(
    fields: Mapping | Iterable[str], custom: Mapping | None = None, *extra: str
) -> list[str]:
    names = list(fields)
    if custom:
        names += list(custom)
    names += [name for name in extra if name]
    return names
