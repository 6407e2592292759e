"""Describe and change definitions through the API, with the same services and rules as
the admin screens. Labels come in the request's language (Accept-Language), falling
back to the tenant's default language, then English. Writes are for administrators."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import get_language_from_request
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from metadata.models import FieldType
from metadata.selectors.definitions import field_describe, object_describe, objects_list
from metadata.services.definitions import (
    custom_field_archive,
    custom_field_create,
    custom_field_type_change,
    custom_field_update,
    object_definition_create,
)
from metadata.services.modules import object_require
from saas.api.openapi import json_body, page, text
from saas.api.permissions import AdminOnly
from tenants.access.principal import ADMIN_SCOPE, Principal


class AdminWrites(BasePermission):
    """Reading definitions is open to staff (clients describe objects to build forms);
    changing them is for administrators -- asked here for an early 403 and again by
    every definitions service."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return AdminOnly().has_permission(request, view)


def _language(request) -> str:
    return get_language_from_request(request) or "en"


def _payload(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    return dict(request.data)


FIELD_KEYS = {
    "api_name",
    "backfill",
    "label",
    "type",
    "required",
    "default",
    "unique",
    "rules",
    "choices",
    "reference_object",
    "filterable",
    "index_sort_field",
    "sensitive",
    "section",
    "position",
    "help_text",
    "translations",
}
OBJECT_KEYS = {"api_name", "label", "label_plural", "module", "icon", "color", "translations"}


def _only(data: dict, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({k: f"{k} is not a setting here." for k in unknown})
    missing = [k for k in required if data.get(k) in (None, "")]
    if missing:
        raise ValidationError(
            {k: ValidationError(f"{k} is required.", code="required") for k in missing}
        )
    return data


def _translated(data: dict, keys: tuple[str, ...]) -> dict:
    """The contract sends translatable texts as {"en": ..., "zh-hans": ...}; the services
    take the English text plus ``translations``."""
    raw = data.pop("translations", None) or {}
    if not isinstance(raw, dict) or any(
        not isinstance(texts, dict) or any(not isinstance(t, str) for t in texts.values())
        for texts in raw.values()
    ):
        raise ValidationError(
            {"translations": 'Give {"<language>": {"<key>": "<text>"}} with texts as strings.'}
        )
    translations: dict = {lang: dict(texts) for lang, texts in raw.items()}
    for key in keys:
        value = data.get(key)
        if isinstance(value, dict):
            if not value or any(not isinstance(t, str) for t in value.values()):
                raise ValidationError({key: "Give the text per language as strings."})
            for lang, text in value.items():
                translations.setdefault(lang, {})[key] = text
            data[key] = value.get("en") or next(iter(value.values()))
    if translations:
        data["translations"] = translations
    return data


OBJ = {"type": "object"}
API_NAME = {**text(63, min_length=1), "pattern": "^[a-z][a-z0-9_]*$"}
OBJECT_OUT = {
    "type": "object",
    "required": ["api_name"],
    "properties": {"api_name": {"type": "string"}, "label": {"type": "string"}},
}
FIELD_OUT = {
    "type": "object",
    "required": ["api_name", "type"],
    "properties": {"api_name": {"type": "string"}, "type": {"type": "string"}},
}
FIELD_WRITE = {
    "label": text(255, min_length=1),
    "required": {"type": "boolean"},
    "default": {},
    "unique": {"type": "boolean"},
    "rules": OBJ,
    "choices": {"type": "array", "items": OBJ},
    "filterable": {"type": "boolean"},
    "index_sort_field": {**text(63), "nullable": True},
    "sensitive": {"type": "boolean"},
    "section": text(100),
    "position": {"type": "integer", "minimum": 0, "maximum": 32767},
    "help_text": text(),
    "translations": OBJ,
    "backfill": {
        "description": "With required: true on an object holding records, the value the "
        "records without one take (else 409 backfill_required, naming how many)."
    },
}


class MetadataBase(APIView):
    def get_permissions(self):
        return [*super().get_permissions(), AdminWrites()]

    def module_for(self, request) -> str | None:
        # Describing reads the object's module; changing definitions is administration.
        if request.method not in SAFE_METHODS:
            return ADMIN_SCOPE
        api_name = self.kwargs.get("api_name")
        return object_require(api_name).definition.module if api_name else None


class ObjectListApi(MetadataBase):
    @extend_schema(responses={200: page(OBJECT_OUT)})
    def get(self, request):
        actor = Principal.from_request(request)
        visible = [o for o in objects_list(_language(request)) if actor.can(o["api_name"], "view")]
        return Response({"results": visible})

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["api_name", "label", "label_plural", "module"],
                "properties": {
                    "api_name": API_NAME,
                    "label": text(100, min_length=1),
                    "label_plural": text(100, min_length=1),
                    "module": text(60, min_length=1),
                    "icon": text(60),
                    "color": text(20),
                    "translations": OBJ,
                },
            }
        ),
        responses={201: OBJECT_OUT},
    )
    def post(self, request):
        data = _translated(
            _only(_payload(request), OBJECT_KEYS, ("api_name", "label", "label_plural", "module")),
            ("label", "label_plural"),
        )
        obj = object_definition_create(actor=Principal.from_request(request), **data)
        return Response(object_describe(obj.api_name, _language(request)), status=201)


class ObjectDetailApi(MetadataBase):
    @extend_schema(responses={200: OBJECT_OUT})
    def get(self, request, api_name: str):
        # Describing an object is reading it: the view right (and its module on).
        Principal.from_request(request).require(api_name, "view")
        return Response(object_describe(api_name, _language(request)))


class FieldListApi(MetadataBase):
    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["api_name", "label", "type"],
                "properties": {
                    "api_name": API_NAME,
                    "type": {"type": "string", "enum": list(FieldType.values)},
                    "reference_object": text(63),
                    **{k: v for k, v in FIELD_WRITE.items() if k != "index_sort_field"},
                },
            }
        ),
        responses={201: FIELD_OUT},
    )
    def post(self, request, api_name: str):
        object_require(api_name)
        data = _translated(
            _only(
                _payload(request), FIELD_KEYS - {"index_sort_field"}, ("api_name", "label", "type")
            ),
            ("label", "help_text"),
        )
        field = custom_field_create(
            object_api_name=api_name, actor=Principal.from_request(request), **data
        )
        return Response(field_describe(field, _language(request)), status=201)


class FieldDetailApi(MetadataBase):
    @extend_schema(
        request=json_body(
            {"type": "object", "additionalProperties": False, "properties": FIELD_WRITE}
        ),
        responses={200: FIELD_OUT},
    )
    def patch(self, request, api_name: str, field: str):
        data = _translated(
            _only(_payload(request), FIELD_KEYS - {"api_name", "type", "reference_object"}),
            ("label", "help_text"),
        )
        updated = custom_field_update(
            object_api_name=api_name, api_name=field, actor=Principal.from_request(request), **data
        )
        return Response(field_describe(updated, _language(request)))


class FieldArchiveApi(MetadataBase):
    @extend_schema(request=None, responses={200: FIELD_OUT})
    def post(self, request, api_name: str, field: str):
        archived = custom_field_archive(
            object_api_name=api_name, api_name=field, actor=Principal.from_request(request)
        )
        return Response(field_describe(archived, _language(request)))


class FieldTypeChangeApi(MetadataBase):
    """``{"type": "integer", "dry_run": true}``: the dry run reports how many values
    would convert and which would fail; ``"dry_run": false`` applies it."""

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "enum": list(FieldType.values)},
                    "dry_run": {"type": "boolean"},
                    "rules": OBJ,
                    "choices": {"type": "array", "items": OBJ},
                },
            }
        ),
        responses={200: OBJ},
    )
    def post(self, request, api_name: str, field: str):
        data = _payload(request)
        report = custom_field_type_change(
            object_api_name=api_name,
            api_name=field,
            new_type=data.get("type", ""),
            dry_run=data.get("dry_run", True) is not False,
            rules=data.get("rules"),
            choices=data.get("choices"),
            actor=Principal.from_request(request),
        )
        return Response(report)
