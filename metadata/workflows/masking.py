"""What of a workflow's messages and logs each person may see.

* A message is rendered with the fields its workflow's owner (the administrator who
  wrote its latest version) may read: a workflow cannot be used to copy a field its
  author could not see into a task, a case or an e-mail. Without a known owner, sensitive
  fields are left out, as for every role by default.
* A run log or dry-run report shows rendered texts only to readers who may read every
  field the version's templates name; others see that the text is withheld."""

from __future__ import annotations

import re
from typing import Any

from tenants.access import registry as access_registry
from tenants.access.principal import Principal

# ``{{ record.custom.points }}``, ``{{ guest.first_name }}``: the object and field named.
_REFERENCE = re.compile(r"\{\{\s*(record|guest)\.(?:custom\.)?([a-z][a-z0-9_]*)")
WITHHELD = "[withheld: this text uses fields you may not read]"
_TEXT_KEYS = ("subject", "body", "description", "text", "message")


def owner_principal(created_by_id: int | None) -> Principal | None:
    if created_by_id is None:
        return None
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.filter(pk=created_by_id, is_active=True).first()
    return Principal.of(owner) if owner is not None else None


def _readable(owner: Principal | None, object_api_name: str, names: list[str]) -> set[str]:
    if owner is None:
        spec = access_registry.object_spec(object_api_name)
        return {n for n in names if not spec.is_sensitive(n)}
    return set(owner.fields_visible(object_api_name, fields=names))


def context_masked(
    context: dict[str, Any], *, owner: Principal | None, object_api_name: str
) -> dict[str, Any]:
    """The message context with every value of a field the owner may not read removed
    (the record's own fields and custom values, and the guest's)."""
    out = dict(context)
    for key, obj in (("record", object_api_name), ("guest", "guest")):
        values = out.get(key)
        if not isinstance(values, dict) or not obj:
            continue
        spec = access_registry.object_spec(obj)
        raw_custom = values.get("custom")
        custom: dict[str, Any] = raw_custom if isinstance(raw_custom, dict) else {}
        fields = set(spec.fields) | set(custom)
        checked = [n for n in values if n in fields] + list(custom)
        readable = _readable(owner, obj, checked)
        masked = {k: v for k, v in values.items() if k not in fields or k in readable}
        if custom:
            masked["custom"] = {k: v for k, v in custom.items() if k in readable}
        out[key] = masked
        if key == "record" and object_api_name == "guest":
            out["guest"] = masked
    return out


def template_fields(actions: list[dict], object_api_name: str) -> set[tuple[str, str]]:
    """(object, field) pairs the version's texts name."""
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            for holder, name in _REFERENCE.findall(value):
                found.add((object_api_name if holder == "record" else "guest", name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(actions)
    return {(o, f) for o, f in found if o}


def reader_may_see_texts(reader: Principal, actions: list[dict], object_api_name: str) -> bool:
    for obj, name in template_fields(actions, object_api_name):
        if reader.field_level(obj, name) == "hidden":
            return False
    return True


def detail_masked(detail: Any, *, visible: bool) -> Any:
    if visible or not isinstance(detail, dict):
        return detail
    return {
        k: (WITHHELD if k in _TEXT_KEYS and isinstance(v, str) and v else v)
        for k, v in detail.items()
    }
