"""Reads of definitions for UI, API describe and forms, with labels in a language.

Labels fall back from the requested language to the tenant's default language, then to
English (the one column never left empty)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from metadata.definitions import ObjectSnapshot, object_snapshot, snapshot
from metadata.models import FieldDefinition
from metadata.services.modules import modules_available
from tenants.context import current_tenant


def _chain(language: str | None) -> list[str]:
    supported = {code for code, _ in settings.LANGUAGES}
    tenant = current_tenant()
    chain = [language, getattr(tenant, "default_language", None), "en"]
    out: list[str] = []
    for code in chain:
        if code and code in supported and code not in out:
            out.append(code)
    return out


def label_for(obj, key: str, language: str | None) -> str:
    """``obj``'s translated ``key`` (label, label_plural, help_text) in ``language``.
    Without a text of its own in that language, an English text the catalogue
    translates (the built-in objects' and fields' names: "Guests", "Rate plans") is
    given in the language before the fallback chain's other languages."""
    chain = _chain(language)
    for position, code in enumerate(chain):
        text = getattr(obj, f"{key}_{code.replace('-', '_')}", "")
        if text:
            return text
        if position == 0 and code != "en":
            english = getattr(obj, f"{key}_en", "") or ""
            if english:
                with translation.override(code):
                    translated = translation.gettext(english)
                if translated != english:
                    return translated
    return getattr(obj, key, "") or ""


def choice_label(choice: dict, language: str | None) -> str:
    labels = choice.get("labels") or {}
    for code in _chain(language):
        if labels.get(code):
            return labels[code]
    return str(choice["value"])


def field_describe(field: FieldDefinition, language: str | None) -> dict:
    return {
        "api_name": field.api_name,
        "label": label_for(field, "label", language),
        "help_text": label_for(field, "help_text", language),
        "type": field.type,
        "required": field.required,
        "unique": field.unique,
        "default": field.default,
        "rules": field.rules,
        "choices": [
            {"value": c["value"], "label": choice_label(c, language)} for c in field.choices
        ],
        "reference_object": field.reference_object or None,
        "filterable": field.filterable,
        "index_status": field.index_status,
        "index_sort_field": field.index_sort_field,
        "sensitive": field.sensitive,
        "section": field.section,
        "position": field.position,
    }


def object_describe(api_name: str, language: str | None) -> dict:
    snap: ObjectSnapshot = object_snapshot(api_name)
    definition = snap.definition
    return {
        "api_name": definition.api_name,
        "label": label_for(definition, "label", language),
        "label_plural": label_for(definition, "label_plural", language),
        "icon": definition.icon,
        "color": definition.color,
        "module": definition.module,
        "builtin": snap.builtin is not None,
        "fields": [field_describe(f, language) for f in snap.active_fields.values()],
    }


def objects_list(language: str | None, *, enabled_only: bool = True) -> list[dict]:
    """Every live object (of modules that are on, unless ``enabled_only`` is off)."""
    modules = modules_available()
    out = []
    for snap in snapshot().values():
        if snap.definition.archived_at is not None:
            continue
        if enabled_only and not modules.get(snap.definition.module, False):
            continue
        out.append(
            {
                "api_name": snap.api_name,
                "label": label_for(snap.definition, "label", language),
                "label_plural": label_for(snap.definition, "label_plural", language),
                "module": snap.definition.module,
                "builtin": snap.builtin is not None,
                "fields": len(snap.active_fields),
            }
        )
    return sorted(out, key=lambda o: o["api_name"])


def object_fields_for_admin(api_name: str, language: str | None) -> list[dict]:
    """Every field of an object for the field designer, archived ones included (with
    ``archived``), in section and position order."""
    snap = object_snapshot(api_name)
    out = []
    for field in snap.fields.values():
        described = field_describe(field, language)
        described["archived"] = field.archived_at is not None
        described["translations"] = {
            code: {
                "label": getattr(field, f"label_{code.replace('-', '_')}", "") or "",
                "help_text": getattr(field, f"help_text_{code.replace('-', '_')}", "") or "",
            }
            for code, _name in settings.LANGUAGES
        }
        described["choice_labels"] = [
            {"value": c["value"], "labels": dict(c.get("labels") or {})} for c in field.choices
        ]
        out.append(described)
    return sorted(out, key=lambda f: (f["archived"], f["section"], f["position"], f["api_name"]))
