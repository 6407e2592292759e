"""Writes to object and field definitions. Every change is one transaction that also
bumps the tenant's metadata version and writes its audit row (who, when, before/after)."""

from __future__ import annotations

import keyword
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from metadata.definitions import object_snapshot, snapshot, version_bump
from metadata.models import FieldDefinition, FieldType, MetadataChange, ObjectDefinition
from metadata.types import FieldValueError, coerce
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict, NotFound
from tenants.modules import module_catalogue

MAX_FIELDS_PER_OBJECT = 500
MAX_INDEXED_PER_OBJECT = 20
# Always used with fullmatch: with match, "$" also matches before a final newline.
API_NAME_RE = re.compile(r"[a-z][a-z0-9_]{1,59}")
# Names that would collide with standard columns, lookups or query syntax.
RESERVED = frozenset(
    {
        "id",
        "pk",
        "name",
        "object",
        "data",
        "custom",
        "created",
        "updated",
        "owner",
        "owner_id",
        "external_id",
        "external_ids",
        "select",
        "from",
        "where",
        "order",
        "limit",
        "filter",
        "sort",
        "search",
        "cursor",
        "page",
        "fields",
        "class",
        "none",
        "null",
        "true",
        "false",
        "self",
    }
)
TRANSLATABLE_OBJECT = ("label", "label_plural")
TRANSLATABLE_FIELD = ("label", "help_text")
FIELD_OPTIONS = {
    "backfill",
    "label",
    "help_text",
    "required",
    "default",
    "unique",
    "rules",
    "choices",
    "filterable",
    "index_sort_field",
    "sensitive",
    "section",
    "position",
    "translations",
}
RULE_KEYS = {
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "regex",
    "decimal_places",
    "region",
}


def _lang_field(name: str, lang: str) -> str:
    return f"{name}_{lang.replace('-', '_')}"


def _apply_translations(obj, translations: dict | None, allowed: tuple[str, ...]) -> None:
    """``{"zh-hans": {"label": "会员等级"}}`` onto the modeltranslation columns."""
    if not translations:
        return
    languages = {code for code, _ in settings.LANGUAGES}
    for lang, texts in translations.items():
        if lang not in languages:
            raise ValidationError(
                {
                    "translations": ValidationError(
                        f"{lang} is not a supported language.", code="language"
                    )
                }
            )
        if not isinstance(texts, dict):
            raise ValidationError({"translations": f"{lang}: give an object of text: value."})
        for key, text in texts.items():
            if key not in allowed:
                raise ValidationError({"translations": f"{key} cannot be translated."})
            if text is not None and (not isinstance(text, str) or "\x00" in text):
                raise ValidationError({"translations": f"{lang}: give {key} as text."})
            setattr(obj, _lang_field(key, lang), text or "")


def _english_default(obj, **texts: str) -> None:
    """The English column is the last fallback of every label: never leave it empty."""
    for key, text in texts.items():
        if not getattr(obj, f"{key}_en", ""):
            setattr(obj, f"{key}_en", text)


def _translations_of(obj, allowed: tuple[str, ...]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang, _ in settings.LANGUAGES:
        for key in allowed:
            value = getattr(obj, _lang_field(key, lang), "")
            if value:
                out.setdefault(lang, {})[key] = value
    return out


def object_as_dict(obj: ObjectDefinition) -> dict:
    return {
        "api_name": obj.api_name,
        "module": obj.module,
        "icon": obj.icon,
        "color": obj.color,
        "builtin": obj.is_builtin,
        "archived": obj.archived_at is not None,
        "translations": _translations_of(obj, TRANSLATABLE_OBJECT),
    }


def field_as_dict(field: FieldDefinition) -> dict:
    return {
        "object": field.object.api_name,
        "api_name": field.api_name,
        "type": field.type,
        "required": field.required,
        "default": field.default,
        "unique": field.unique,
        "rules": field.rules,
        "choices": field.choices,
        "reference_object": field.reference_object,
        "filterable": field.filterable,
        "index_sort_field": field.index_sort_field,
        "sensitive": field.sensitive,
        "section": field.section,
        "position": field.position,
        "archived": field.archived_at is not None,
        "translations": _translations_of(field, TRANSLATABLE_FIELD),
    }


def change_record(*, action: str, target: str, before, after, actor: Principal) -> int:
    version = version_bump()
    MetadataChange.objects.create(
        version=version,
        action=action,
        target=target,
        user_id=actor.user_id,
        before=before,
        after=after,
    )
    return version


def _api_name_check(api_name: str, *, taken: set[str], reserved: set[str]) -> None:
    if not isinstance(api_name, str) or not API_NAME_RE.fullmatch(api_name) or "__" in api_name:
        raise ValidationError(
            {
                "api_name": ValidationError(
                    "Use 2-60 lower-case letters, digits and single underscores, "
                    "starting with a letter.",
                    code="api_name",
                )
            }
        )
    if api_name in reserved or keyword.iskeyword(api_name):
        raise ValidationError(
            {"api_name": ValidationError(f"{api_name} is a reserved name.", code="reserved")}
        )
    if api_name in taken:
        raise ValidationError(
            {"api_name": ValidationError(f"{api_name} is already taken.", code="taken")}
        )


def _module_check(module: str) -> None:
    from metadata.models import ModuleDefinition

    known = set(module_catalogue()) | set(ModuleDefinition.objects.values_list("key", flat=True))
    if module not in known:
        raise ValidationError(
            {
                "module": ValidationError(
                    f"{module} is not a module; use one of {', '.join(sorted(known))}.",
                    code="module",
                )
            }
        )


# --- objects ------------------------------------------------------------------------------


@transaction.atomic
def object_definition_create(
    *,
    api_name: str,
    label: str,
    label_plural: str,
    module: str,
    icon: str = "",
    color: str = "",
    translations: dict | None = None,
    actor: Principal,
) -> ObjectDefinition:
    actor.require_admin("change the CRM's definitions")
    snapshot()  # built-in rows exist, so their names count as taken
    taken = set(ObjectDefinition.objects.values_list("api_name", flat=True))
    _api_name_check(api_name, taken=taken, reserved=set())
    _module_check(module)
    errors = {}
    if not (label or "").strip():
        errors["label"] = "A label is required."
    if not (label_plural or "").strip():
        errors["label_plural"] = "A plural label is required."
    if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        errors["color"] = "Use a colour like #1f6feb."
    if errors:
        raise ValidationError(errors)
    obj = ObjectDefinition(
        api_name=api_name,
        label=label,
        label_plural=label_plural,
        module=module,
        icon=icon,
        color=color,
        is_builtin=False,
    )
    _english_default(obj, label=label, label_plural=label_plural)
    _apply_translations(obj, translations, TRANSLATABLE_OBJECT)
    obj.save()
    change_record(
        action="object.create", target=api_name, before=None, after=object_as_dict(obj), actor=actor
    )
    return obj


@transaction.atomic
def object_definition_update(
    *, api_name: str, actor: Principal, translations: dict | None = None, **changes
) -> ObjectDefinition:
    actor.require_admin("change the CRM's definitions")
    obj = _object_locked(api_name)
    before = object_as_dict(obj)
    allowed = {"icon", "color", "module", "label", "label_plural"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "cannot be changed."), code="immutable")
    if "module" in changes:
        if obj.is_builtin:
            raise ValidationError({"module": "A built-in object stays in its module."})
        _module_check(changes["module"])
    for key, value in changes.items():
        setattr(obj, key if key not in TRANSLATABLE_OBJECT else f"{key}_en", value)
    _apply_translations(obj, translations, TRANSLATABLE_OBJECT)
    obj.save()
    change_record(
        action="object.update",
        target=api_name,
        before=before,
        after=object_as_dict(obj),
        actor=actor,
    )
    return obj


@transaction.atomic
def object_definition_archive(*, api_name: str, actor: Principal) -> ObjectDefinition:
    actor.require_admin("change the CRM's definitions")
    obj = _object_locked(api_name)
    if obj.is_builtin:
        raise ApplicationError("Built-in objects cannot be archived.", field="object")
    before = object_as_dict(obj)
    obj.archived_at = timezone.now()
    obj.save(update_fields=["archived_at", "updated"])
    change_record(
        action="object.archive",
        target=api_name,
        before=before,
        after=object_as_dict(obj),
        actor=actor,
    )
    return obj


def _object_locked(api_name: str) -> ObjectDefinition:
    snapshot()
    obj = ObjectDefinition.objects.select_for_update().filter(api_name=api_name).first()
    if obj is None:
        raise NotFound(f"There is no object named {api_name!r}.", field="object")
    return obj


# --- fields -------------------------------------------------------------------------------


def _rules_check(field_type: str, rules: dict) -> dict:
    if not isinstance(rules, dict):
        raise ValidationError({"rules": "Rules must be an object."})
    unknown = set(rules) - RULE_KEYS
    if unknown:
        raise ValidationError({"rules": f"Unknown rules: {', '.join(sorted(unknown))}."})
    if rules.get("regex"):
        if field_type not in (FieldType.TEXT, FieldType.LONG_TEXT):
            raise ValidationError({"rules": "A pattern applies to text fields only."})
        if len(rules["regex"]) > 200:
            raise ValidationError({"rules": "The pattern is longer than 200 characters."})
        try:
            re.compile(rules["regex"])
        except re.error as exc:
            raise ValidationError({"rules": f"The pattern is not valid: {exc}."}) from None
    for key in ("min_length", "max_length", "decimal_places"):
        if key in rules and (not isinstance(rules[key], int) or rules[key] < 0):
            raise ValidationError({"rules": f"{key} must be a whole number, 0 or more."})
    return rules


def _choices_check(field_type: str, choices: list) -> list:
    if field_type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        if choices:
            raise ValidationError({"choices": "Only choice fields have choices."})
        return []
    if not isinstance(choices, list) or not choices:
        raise ValidationError({"choices": "A choice field needs at least one choice."})
    clean, seen = [], set()
    languages = {code for code, _ in settings.LANGUAGES}
    for item in choices:
        if isinstance(item, str):
            item = {"value": item, "labels": {"en": item}}
        value = str(item.get("value", "")).strip() if isinstance(item, dict) else ""
        if not value or len(value) > 100:
            raise ValidationError({"choices": "Each choice needs a value of 1-100 characters."})
        if value in seen:
            raise ValidationError({"choices": f"The choice {value} appears twice."})
        seen.add(value)
        labels = item.get("labels") or item.get("label") or {"en": value}
        if isinstance(labels, str):
            labels = {"en": labels}
        bad = set(labels) - languages
        if bad:
            raise ValidationError({"choices": f"Unsupported languages: {', '.join(bad)}."})
        clean.append({"value": value, "labels": {k: str(v) for k, v in labels.items()}})
    return clean


def _field_locked(object_api_name: str, api_name: str) -> FieldDefinition:
    snap = object_snapshot(object_api_name)
    field = (
        FieldDefinition.objects.select_for_update()
        .select_related("object")
        .filter(object=snap.definition, api_name=api_name)
        .first()
    )
    if field is None:
        raise NotFound(f"{object_api_name} has no field {api_name!r}.", field="field")
    return field


def _reserved_for(snap) -> set[str]:
    names = set(RESERVED)
    if snap.builtin is not None:
        for f in snap.builtin.model_class()._meta.get_fields():
            names.add(f.name)
            if getattr(f, "attname", None):
                names.add(f.attname)
    return names


@transaction.atomic
def custom_field_create(
    *,
    object_api_name: str,
    api_name: str,
    label: str,
    type: str,  # noqa: A002 - the field's type, as the API calls it
    required: bool = False,
    default: Any = None,
    unique: bool = False,
    rules: dict | None = None,
    choices: list | None = None,
    reference_object: str = "",
    filterable: bool = False,
    sensitive: bool = False,
    section: str = "",
    position: int | None = None,
    help_text: str = "",
    translations: dict | None = None,
    backfill: Any = None,
    actor: Principal,
) -> FieldDefinition:
    actor.require_admin("change the CRM's definitions")
    snap = object_snapshot(object_api_name)
    if backfill is not None and required is not True:
        raise ValidationError({"backfill": "A backfill value goes with a required field."})
    # Serialise field creation per object so the limits hold under concurrency.
    ObjectDefinition.objects.select_for_update().get(pk=snap.definition.pk)
    existing = FieldDefinition.objects.filter(object=snap.definition)
    if existing.count() >= MAX_FIELDS_PER_OBJECT:
        raise Conflict(
            f"{object_api_name} already has {MAX_FIELDS_PER_OBJECT} custom fields, the limit.",
            code="field_limit",
            field="api_name",
        )
    from tenants.context import current_tenant
    from tenants.entitlements import tenant_limit_check

    tenant_limit_check(
        tenant=current_tenant(),
        key="custom_fields_per_object",
        count=existing.count(),
        label=f"custom fields on {object_api_name}",
    )
    _api_name_check(
        api_name,
        taken=set(existing.values_list("api_name", flat=True)),
        reserved=_reserved_for(snap),
    )
    for flag, value in (
        ("required", required),
        ("unique", unique),
        ("filterable", filterable),
        ("sensitive", sensitive),
    ):
        if not isinstance(value, bool):
            raise ValidationError({flag: ValidationError("Use true or false.", code="type")})
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or position < 0
    ):
        raise ValidationError(
            {"position": ValidationError("Use a whole number, 0 or more.", code="type")}
        )
    if not isinstance(section, str) or len(section) > 60:
        raise ValidationError(
            {"section": ValidationError("Use text of at most 60 characters.", code="type")}
        )
    if type not in FieldType.values:
        raise ValidationError(
            {
                "type": ValidationError(
                    f"{type} is not a field type; use one of {', '.join(FieldType.values)}.",
                    code="type",
                )
            }
        )
    if not (label or "").strip():
        raise ValidationError({"label": "A label is required."})
    if type == FieldType.REFERENCE:
        if reference_object not in snapshot():
            raise ValidationError(
                {"reference_object": f"{reference_object or '(none)'} is not an object."}
            )
    elif reference_object:
        raise ValidationError({"reference_object": "Only reference fields point to an object."})
    if unique and type in (FieldType.LONG_TEXT, FieldType.MULTI_CHOICE, FieldType.BOOLEAN):
        raise ValidationError({"unique": f"A {type} field cannot be unique."})
    field = FieldDefinition(
        object=snap.definition,
        api_name=api_name,
        label=label,
        help_text=help_text,
        type=type,
        required=required,
        unique=unique,
        rules=_rules_check(type, rules or {}),
        choices=_choices_check(type, choices or []),
        reference_object=reference_object,
        sensitive=sensitive,
        section=section,
        position=position if position is not None else existing.count(),
    )
    _english_default(field, label=label, help_text=help_text)
    _apply_translations(field, translations, TRANSLATABLE_FIELD)
    if default is not None:
        try:
            field.default = coerce(field, default)
        except FieldValueError as exc:
            raise ValidationError({"default": f"The default {exc.message}"}) from None
    field.save()
    if required:
        _required_backfill(field, backfill, actor=actor)
    if filterable:
        from metadata.services.indexes import field_index_request

        field_index_request(field=field, actor=actor)
    change_record(
        action="field.create",
        target=f"{object_api_name}.{api_name}",
        before=None,
        after=field_as_dict(field),
        actor=actor,
    )
    return field


@transaction.atomic
def custom_field_update(
    *, object_api_name: str, api_name: str, actor: Principal, **changes
) -> FieldDefinition:
    """Relabel, retranslate, change rules, choices, flags, section or position. The type
    and api name are not changed here (see custom_field_type_change)."""
    actor.require_admin("change the CRM's definitions")
    field = _field_locked(object_api_name, api_name)
    if field.archived_at is not None:
        raise ApplicationError(
            f"{api_name} is archived; restore it first.", code="archived", field=api_name
        )
    unknown = set(changes) - FIELD_OPTIONS
    if unknown:
        raise ValidationError(
            dict.fromkeys(sorted(unknown), "cannot be changed here."), code="immutable"
        )
    before = field_as_dict(field)
    backfill = changes.pop("backfill", None)
    becoming_required = changes.get("required") is True and not field.required
    if backfill is not None and not becoming_required:
        raise ValidationError(
            {"backfill": "A backfill value goes with making an optional field required."}
        )
    translations = changes.pop("translations", None)
    filterable = changes.pop("filterable", None)
    sort_companion = changes.pop("index_sort_field", None)
    if sort_companion is not None:
        sort_companion = _sort_companion_check(field, sort_companion)
    if "rules" in changes:
        field.rules = _rules_check(field.type, changes.pop("rules") or {})
    if "choices" in changes:
        new = _choices_check(field.type, changes.pop("choices") or [])
        removed = {c["value"] for c in field.choices} - {c["value"] for c in new}
        if removed and _values_in_use(field, removed):
            raise ValidationError(
                {"choices": f"Records still use {', '.join(sorted(removed))}; change them first."}
            )
        field.choices = new
    for key in ("label", "help_text"):
        if key in changes:
            setattr(field, f"{key}_en", changes.pop(key))
    for key, value in changes.items():
        setattr(field, key, value)
    if field.default is not None:
        try:
            field.default = coerce(field, field.default)
        except FieldValueError as exc:
            raise ValidationError({"default": f"The default {exc.message}"}) from None
    _apply_translations(field, translations, TRANSLATABLE_FIELD)
    field.save()
    if becoming_required:
        _required_backfill(field, backfill, actor=actor)
    if filterable is not None and filterable != field.filterable:
        from metadata.services.indexes import field_index_drop, field_index_request

        if filterable:
            field_index_request(field=field, actor=actor)
        else:
            field_index_drop(field=field)
    elif sort_companion is not None and sort_companion != field.index_sort_field:
        # A new shape of the index: built beside the old one, which then goes.
        from metadata.services.indexes import field_index_request

        field.index_sort_field = sort_companion
        field.save(update_fields=["index_sort_field", "updated"])
        if field.filterable:
            field_index_request(field=field, actor=actor)
    elif filterable and field.index_status == FieldDefinition.IndexStatus.FAILED:
        # Asking again for a filterable field whose index failed retries the build.
        from metadata.services.indexes import field_index_retry

        field_index_retry(field=field, actor=actor)
    change_record(
        action="field.update",
        target=f"{object_api_name}.{api_name}",
        before=before,
        after=field_as_dict(field),
        actor=actor,
    )
    return field


# A value counts as missing when the key is absent or holds null, "" or [].
_MISSING_SQL = "(NOT ({col} ? %s) OR {col} -> %s IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb))"


def _required_backfill(field: FieldDefinition, backfill: Any, *, actor: Principal) -> int:
    """A field becoming required on an object that holds records: the records without a
    value take ``backfill`` (checked as a value of the field), in one statement, inside
    the caller's transaction; without a backfill value the change is refused, naming how
    many records lack one. Returns how many records were filled."""
    snap = object_snapshot(field.object.api_name, include_archived=True)
    model = snap.model()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = _MISSING_SQL.format(col=quote(snap.values_column))
    params: list[Any] = [field.api_name, field.api_name]
    if snap.builtin is None:
        where += " AND object_id = %s"
        params.append(snap.definition.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", params)
        missing = cursor.fetchone()[0]
        if not missing:
            return 0
        if backfill is None:
            refused = Conflict(
                f"{missing} {snap.api_name} records have no value for {field.api_name}: give "
                "a backfill value to fill them with, or leave the field optional.",
                code="backfill_required",
                field="backfill",
            )
            refused.missing = missing  # type: ignore[attr-defined]  # for the form
            raise refused
        try:
            value = coerce(field, backfill)
        except FieldValueError as exc:
            raise ValidationError({"backfill": f"The backfill value {exc.message}"}) from None
        if value in (None, "", []):
            raise ValidationError({"backfill": "Give a value to fill the records with."})
        column = quote(snap.values_column)
        stamp = (
            f", {quote('updated')} = now()"
            if any(f.name == "updated" for f in model._meta.concrete_fields)
            else ""
        )
        cursor.execute(
            f"UPDATE {table} SET {column} = coalesce({column}, '{{}}'::jsonb) || "
            f"jsonb_build_object(%s::text, %s::jsonb){stamp} WHERE {where}",
            [field.api_name, _json(value), *params],  # coerce gives the stored JSON form
        )
        filled = cursor.rowcount
    change_record(
        action="field.backfill",
        target=f"{snap.api_name}.{field.api_name}",
        before=None,
        after={"records": filled, "value": value},
        actor=actor,
    )
    return filled


def _sort_companion_check(field: FieldDefinition, value) -> str:
    """The field lists filtered by ``field`` are sorted by: another active field of the
    same object that sorts (not multi-choice or long text), or "" for none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValidationError({"index_sort_field": "Name a field (its api name)."})
    snap = object_snapshot(field.object.api_name)
    companion = snap.active_fields.get(value)
    if companion is None or companion.api_name == field.api_name:
        raise ValidationError(
            {"index_sort_field": f"{value} is not another field of {snap.api_name}."}
        )
    if companion.type in (FieldType.MULTI_CHOICE, FieldType.LONG_TEXT) or field.type == (
        FieldType.MULTI_CHOICE
    ):
        raise ValidationError(
            {"index_sort_field": "Multi-choice and long text fields do not sort."}
        )
    return value


def _values_in_use(field: FieldDefinition, values: set[str]) -> bool:
    snap = object_snapshot(field.object.api_name, include_archived=True)
    column = snap.values_column
    queryset = snap.model()._default_manager.all()
    if snap.builtin is None:
        queryset = queryset.filter(object_id=snap.definition.pk)
    for value in values:
        lookup = (
            {f"{column}__{field.api_name}__contains": [value]}
            if field.type == FieldType.MULTI_CHOICE
            else {f"{column}__{field.api_name}": value}
        )
        if queryset.filter(**lookup).exists():
            return True
    return False


def _records_with_value(field: FieldDefinition):
    snap = object_snapshot(field.object.api_name, include_archived=True)
    queryset = snap.model()._default_manager.filter(
        **{f"{snap.values_column}__has_key": field.api_name}
    )
    if snap.builtin is None:
        queryset = queryset.filter(object_id=snap.definition.pk)
    return snap, queryset


@transaction.atomic
def custom_field_type_change(
    *,
    object_api_name: str,
    api_name: str,
    new_type: str,
    dry_run: bool = True,
    rules: dict | None = None,
    choices: list | None = None,
    actor: Principal,
) -> dict:
    """Convert every stored value to ``new_type``. The dry run reports how many values
    would convert and which would fail; applying refuses while any value would fail, and
    converts everything in this one transaction otherwise."""
    actor.require_admin("change the CRM's definitions")
    field = _field_locked(object_api_name, api_name)
    if new_type not in FieldType.values or new_type == FieldType.REFERENCE:
        raise ValidationError({"type": f"Cannot change a field to {new_type}."})
    if field.type == FieldType.REFERENCE:
        raise ValidationError({"type": "A reference field keeps its type."})
    before = field_as_dict(field)
    target = FieldDefinition(
        object=field.object,
        api_name=field.api_name,
        label=field.label,
        type=new_type,
        rules=_rules_check(new_type, rules if rules is not None else field.rules),
        choices=_choices_check(new_type, choices if choices is not None else (field.choices or [])),
    )
    snap, queryset = _records_with_value(field)
    column = snap.values_column
    converted: list[tuple[int, Any]] = []
    failures: list[dict] = []
    for pk, values in queryset.values_list("pk", column).iterator(chunk_size=2000):
        old = values.get(api_name)
        if isinstance(old, dict) and "amount" in old:  # money → number keeps the amount
            old = old["amount"] if new_type != FieldType.MONEY else old
        if isinstance(old, list) and new_type != FieldType.MULTI_CHOICE:
            old = ";".join(old)
        if not isinstance(old, str | dict | list | bool) and new_type in (
            FieldType.TEXT,
            FieldType.LONG_TEXT,
            FieldType.CHOICE,
        ):
            old = str(old)
        try:
            converted.append((pk, coerce(target, old)))
        except FieldValueError as exc:
            if len(failures) < 20:
                failures.append({"id": pk, "value": values.get(api_name), "error": exc.message})
            else:
                failures.append({"id": pk})
    report = {
        "field": f"{object_api_name}.{api_name}",
        "from": field.type,
        "to": new_type,
        "values": len(converted) + len(failures),
        "convertible": len(converted),
        "failing": len(failures),
        "examples": [f for f in failures if "error" in f],
        "applied": False,
    }
    if dry_run:
        return report
    if failures:
        raise ApplicationError(
            f"{len(failures)} stored values cannot become {new_type}; "
            "fix them or run the dry run to see which.",
            code="type_change_refused",
            field=api_name,
        )
    model = snap.model()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for chunk_start in range(0, len(converted), 1000):
            chunk = converted[chunk_start : chunk_start + 1000]
            cursor.executemany(
                f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = "
                f"jsonb_set({quote(column)}, %s, %s::jsonb) WHERE id = %s",
                [([api_name], _json(value), pk) for pk, value in chunk],
            )
    field.type = new_type
    field.rules = target.rules
    field.choices = target.choices
    field.save()
    if field.filterable:
        from metadata.services.indexes import field_index_drop, field_index_request

        field_index_drop(field=field)  # the expression depends on the type
        field_index_request(field=field, actor=actor)
    change_record(
        action="field.type_change",
        target=f"{object_api_name}.{api_name}",
        before=before,
        after=field_as_dict(field),
        actor=actor,
    )
    report["applied"] = True
    return report


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@transaction.atomic
def custom_field_archive(
    *, object_api_name: str, api_name: str, actor: Principal
) -> FieldDefinition:
    """Hide the field everywhere; its stored values stay until a purge."""
    actor.require_admin("change the CRM's definitions")
    field = _field_locked(object_api_name, api_name)
    if field.archived_at is not None:
        return field
    before = field_as_dict(field)
    field.archived_at = timezone.now()
    field.save(update_fields=["archived_at", "updated"])
    change_record(
        action="field.archive",
        target=f"{object_api_name}.{api_name}",
        before=before,
        after=field_as_dict(field),
        actor=actor,
    )
    return field


@transaction.atomic
def custom_field_restore(
    *, object_api_name: str, api_name: str, actor: Principal
) -> FieldDefinition:
    actor.require_admin("change the CRM's definitions")
    field = _field_locked(object_api_name, api_name)
    before = field_as_dict(field)
    field.archived_at = None
    field.save(update_fields=["archived_at", "updated"])
    change_record(
        action="field.restore",
        target=f"{object_api_name}.{api_name}",
        before=before,
        after=field_as_dict(field),
        actor=actor,
    )
    return field


@transaction.atomic
def custom_field_purge(
    *, object_api_name: str, api_name: str, confirm: str, actor: Principal
) -> dict:
    """Delete an archived field and every stored value of it. ``confirm`` must repeat
    the field's api name."""
    actor.require_admin("change the CRM's definitions")
    field = _field_locked(object_api_name, api_name)
    if field.archived_at is None:
        raise ApplicationError(
            f"Archive {api_name} before purging it.", code="not_archived", field=api_name
        )
    if confirm != api_name:
        raise ApplicationError(
            f"Type the field's api name ({api_name}) to confirm the purge.",
            code="confirmation_required",
            field="confirm",
        )
    before = field_as_dict(field)
    snap, queryset = _records_with_value(field)
    model, column = snap.model(), snap.values_column
    quote = connection.ops.quote_name
    ids = list(queryset.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = {quote(column)} - %s "
            "WHERE id = ANY(%s)",
            [api_name, ids],
        )
    if field.filterable:
        from metadata.services.indexes import field_index_drop

        field_index_drop(field=field)
    field.delete()
    change_record(
        action="field.purge",
        target=f"{object_api_name}.{api_name}",
        before=before,
        after=None,
        actor=actor,
    )
    return {"field": f"{object_api_name}.{api_name}", "values_removed": len(ids)}
