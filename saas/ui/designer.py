"""Tenant admin settings: record types and the custom field designer (labels and help
in each enabled language, choices with translated labels, flags, sections and order,
archive and restore, type change with its dry-run report).

Every write goes through metadata's services, so the rules and messages are the API's."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metadata.models import FieldType
from metadata.selectors.definitions import object_describe, object_fields_for_admin, objects_list
from metadata.services.definitions import (
    custom_field_archive,
    custom_field_create,
    custom_field_restore,
    custom_field_type_change,
    custom_field_update,
)
from saas.ui.errors import errors_by_field, unplaced
from saas.ui.i18n import tenant_languages
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, NotFound
from tenants.modules import module_catalogue

MAX_CHOICES = 200
FLAGS = ("required", "unique", "filterable", "sensitive")
TYPE_LABELS: dict[str, Any] = {
    FieldType.TEXT: gettext_lazy("Text"),
    FieldType.LONG_TEXT: gettext_lazy("Long text"),
    FieldType.INTEGER: gettext_lazy("Integer"),
    FieldType.DECIMAL: gettext_lazy("Decimal"),
    FieldType.MONEY: gettext_lazy("Money"),
    FieldType.PERCENT: gettext_lazy("Percent"),
    FieldType.BOOLEAN: gettext_lazy("Yes / no"),
    FieldType.DATE: gettext_lazy("Date"),
    FieldType.DATETIME: gettext_lazy("Date and time"),
    FieldType.CHOICE: gettext_lazy("Choice"),
    FieldType.MULTI_CHOICE: gettext_lazy("Multiple choice"),
    FieldType.EMAIL: gettext_lazy("E-mail"),
    FieldType.PHONE: gettext_lazy("Phone"),
    FieldType.URL: gettext_lazy("URL"),
    FieldType.COUNTRY: gettext_lazy("Country"),
    FieldType.LANGUAGE: gettext_lazy("Language"),
    FieldType.REFERENCE: gettext_lazy("Reference"),
}


def admin_require(user) -> None:
    """The settings screens are administration: the one administrator rule."""
    if not Principal.of(user).is_admin:
        raise AccessDenied(_("Only administrators change the settings."))


def _type_choices() -> list[tuple[str, str]]:
    return [(value, str(TYPE_LABELS.get(value, value))) for value in FieldType.values]


@login_required
def settings_home(request):
    admin_require(request.user)
    return render(request, "settings/home.html")


@login_required
def object_list(request):
    """Record types, and a form to add one of the tenant's own (a custom object)."""
    from metadata.services.definitions import object_definition_create
    from metadata.services.modules import modules_available

    admin_require(request.user)
    languages = tenant_languages()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = request.POST
        labels = {c: (data.get(f"label-{c}") or "").strip() for c, _n in languages}
        plurals = {c: (data.get(f"plural-{c}") or "").strip() for c, _n in languages}
        main = next((c for c in ("en", *labels) if labels.get(c)), "en")
        try:
            created = object_definition_create(
                api_name=(data.get("api_name") or "").strip(),
                label=labels.get(main, ""),
                label_plural=plurals.get(main, ""),
                module=data.get("module") or "",
                translations={
                    c: {"label": labels[c], "label_plural": plurals[c]} for c, _n in languages
                },
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = errors_by_field(exc)
        else:
            messages.success(request, _("Record type %(name)s added.") % {"name": created.api_name})
            return redirect("settings_fields", api_name=created.api_name)
    return render(
        request,
        "settings/objects.html",
        {
            "objects": objects_list(get_language(), enabled_only=False),
            "languages": languages,
            "modules": sorted(modules_available()),
            # The catalogue keeps English labels (made at start-up): read in the reader's.
            "module_labels": {key: _(m.label) for key, m in module_catalogue().items()},
            "errors": errors,
            "values": request.POST,
        },
        status=400 if errors else 200,
    )


def _object(api_name: str) -> dict:
    """The record type of the URL, or the 404 page (metadata's NotFound is the API's
    error; here it would be a server error)."""
    try:
        return object_describe(api_name, get_language())
    except NotFound:
        raise Http404(_("There is no such record type.")) from None


@login_required
def field_list(request, api_name: str):
    admin_require(request.user)
    return render(
        request,
        "settings/fields.html",
        {
            "object": _object(api_name),
            "fields": object_fields_for_admin(api_name, get_language()),
            "type_labels": dict(_type_choices()),
        },
    )


class FieldForm:
    """The designer's form: parses the POST into the service's arguments and keeps what
    was typed (and the errors) for the page."""

    def __init__(self, data=None, *, existing: dict | None = None):
        self.languages = tenant_languages()
        self.existing = existing
        self.errors: dict[str, list[str]] = {}
        self.non_field_errors: list[str] = []
        # Records without a value, when ticking "Required" needs a backfill value first.
        self.backfill_missing: int | None = None
        if data is not None:
            self.values = self._from_post(data)
        elif existing is not None:
            self.values = self._from_existing(existing)
        else:
            self.values = {
                "api_name": "",
                "type": FieldType.TEXT,
                "section": "",
                "position": "",
                "labels": {},
                "help": {},
                "flags": set(),
                "choices": [],
            }
        spare = 3 if not self.values["choices"] else 1
        rows = [*self.values["choices"], *({"value": "", "labels": {}},) * spare]
        self.indexed_rows = list(enumerate(rows))
        self.next_index = len(rows)

    def _from_existing(self, field: dict) -> dict:
        return {
            "api_name": field["api_name"],
            "type": field["type"],
            "section": field["section"],
            "position": field["position"],
            "labels": {c: t["label"] for c, t in field["translations"].items()},
            "help": {c: t["help_text"] for c, t in field["translations"].items()},
            "flags": {flag for flag in FLAGS if field[flag]},
            "choices": field["choice_labels"],
            "index_sort_field": field.get("index_sort_field") or "",
        }

    def _from_post(self, data) -> dict:
        choices = []
        for index in range(MAX_CHOICES):
            if f"choice-{index}-value" not in data:
                continue
            value = (data.get(f"choice-{index}-value") or "").strip()
            labels = {
                code: (data.get(f"choice-{index}-label-{code}") or "").strip()
                for code, _name in self.languages
            }
            labels = {code: text for code, text in labels.items() if text}
            if value or labels:
                choices.append({"value": value, "labels": labels})
        return {
            "api_name": (data.get("api_name") or "").strip(),
            "type": data.get("type") or "",
            "section": (data.get("section") or "").strip(),
            "position": (data.get("position") or "").strip(),
            "index_sort_field": (data.get("index_sort_field") or "").strip(),
            "labels": {c: (data.get(f"label-{c}") or "").strip() for c, _n in self.languages},
            "help": {c: (data.get(f"help-{c}") or "").strip() for c, _n in self.languages},
            "flags": {flag for flag in FLAGS if data.get(flag) == "on"},
            "choices": choices,
            "backfill": (data.get("backfill") or "").strip(),
        }

    def _backfill(self) -> dict:
        value = self.values.get("backfill") or ""
        return {"backfill": value} if value and "required" in self.values["flags"] else {}

    def _main_label(self) -> str:
        labels = self.values["labels"]
        for code in ("en", *(c for c, _n in self.languages)):
            if labels.get(code):
                return labels[code]
        return ""

    def _translations(self) -> dict:
        return {
            code: {
                "label": self.values["labels"].get(code, ""),
                "help_text": self.values["help"].get(code, ""),
            }
            for code, _name in self.languages
        }

    def _position(self):
        raw = self.values["position"]
        if raw == "":
            return None
        return int(raw) if str(raw).isdigit() else raw  # the service names a bad one

    def _choices(self) -> list:
        return [
            {"value": c["value"], "labels": c["labels"] or {"en": c["value"]}}
            for c in self.values["choices"]
        ]

    def create_arguments(self) -> dict:
        kind = self.values["type"]
        return {
            "api_name": self.values["api_name"],
            "label": self._main_label(),
            "help_text": self.values["help"].get("en", ""),
            "type": kind,
            "section": self.values["section"],
            "position": self._position(),
            "choices": self._choices()
            if kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
            else [],
            "translations": self._translations(),
            **{flag: flag in self.values["flags"] for flag in FLAGS},
            **self._backfill(),
        }

    def update_arguments(self) -> dict:
        assert self.existing is not None
        if not self._main_label():
            raise ValidationError({"label": "A label is required."})
        changes = {
            "section": self.values["section"],
            "translations": self._translations(),
            **{flag: flag in self.values["flags"] for flag in FLAGS},
        }
        if not self.existing.get("required"):
            changes.update(self._backfill())
        if self.values["labels"].get("en"):
            changes["label"] = self.values["labels"]["en"]
        position = self._position()
        if position is not None:
            changes["position"] = position
        if self.existing["type"] in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            changes["choices"] = self._choices()
        if "filterable" in self.values["flags"]:
            changes["index_sort_field"] = self.values.get("index_sort_field") or ""
        return changes

    def fail(self, exc: ValidationError | ApplicationError) -> None:
        self.errors = errors_by_field(exc)
        self.backfill_missing = getattr(exc, "missing", None)
        placed = {
            "api_name", "type", "label", "section", "position", "choices", "index_sort_field",
            "backfill", *FLAGS,
        }  # fmt: skip
        self.non_field_errors = unplaced(self.errors, placed)


def _form_page(request, api_name: str, form: FieldForm, *, field: dict | None):
    described = object_describe(api_name, get_language())
    sortable = [
        f
        for f in described["fields"]
        if field is not None
        and f["api_name"] != field["api_name"]
        and f["type"] not in (FieldType.MULTI_CHOICE, FieldType.LONG_TEXT)
    ]
    return render(
        request,
        "settings/field_form.html",
        {
            "object": described,
            "form": form,
            "field": field,
            "sort_companions": sortable,
            "types": _type_choices(),
            "choice_types": [FieldType.CHOICE, FieldType.MULTI_CHOICE],
        },
        status=400 if form.errors else 200,
    )


@login_required
def field_create(request, api_name: str):
    admin_require(request.user)
    _object(api_name)
    if request.method != "POST":
        return _form_page(request, api_name, FieldForm(), field=None)
    form = FieldForm(request.POST)
    try:
        created = custom_field_create(
            object_api_name=api_name,
            actor=Principal.from_request(request),
            **form.create_arguments(),
        )
    except (ValidationError, ApplicationError) as exc:
        form.fail(exc)
        return _form_page(request, api_name, form, field=None)
    messages.success(request, _("Field %(name)s added.") % {"name": created.api_name})
    return redirect("settings_fields", api_name=api_name)


def _field(api_name: str, name: str) -> dict:
    _object(api_name)
    for described in object_fields_for_admin(api_name, get_language()):
        if described["api_name"] == name:
            return described
    raise Http404(_("There is no such field."))


@login_required
def field_edit(request, api_name: str, name: str):
    admin_require(request.user)
    field = _field(api_name, name)
    if request.method != "POST":
        return _form_page(request, api_name, FieldForm(existing=field), field=field)
    form = FieldForm(request.POST, existing=field)
    try:
        custom_field_update(
            object_api_name=api_name,
            api_name=name,
            actor=Principal.from_request(request),
            **form.update_arguments(),
        )
    except (ValidationError, ApplicationError) as exc:
        form.fail(exc)
        return _form_page(request, api_name, form, field=field)
    messages.success(request, _("Field %(name)s saved.") % {"name": name})
    return redirect("settings_fields", api_name=api_name)


@login_required
def field_choice_row(request, api_name: str):
    """One more empty row of the choices editor (htmx), then the button for the next."""
    admin_require(request.user)
    raw = request.GET.get("index", "")
    index = int(raw) if raw.isdigit() and int(raw) < MAX_CHOICES else 0
    return render(
        request,
        "settings/_choice_rows.html",
        {
            "rows": [(index, {"value": "", "labels": {}})],
            "next_index": index + 1,
            "languages": tenant_languages(),
            "api_name": api_name,
        },
    )


@login_required
@require_POST
def field_archive(request, api_name: str, name: str):
    admin_require(request.user)
    try:
        if request.POST.get("restore") == "1":
            custom_field_restore(
                object_api_name=api_name, api_name=name, actor=Principal.from_request(request)
            )
            messages.success(request, _("Field %(name)s restored.") % {"name": name})
        else:
            custom_field_archive(
                object_api_name=api_name, api_name=name, actor=Principal.from_request(request)
            )
            messages.success(
                request,
                _("Field %(name)s archived; its values are kept.") % {"name": name},
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("settings_fields", api_name=api_name)


@login_required
def field_type_change(request, api_name: str, name: str):
    """Pick a new type, see the dry run (how many values convert, which fail), apply."""
    admin_require(request.user)
    field = _field(api_name, name)
    report, errors, new_type = None, [], request.POST.get("type", "")
    if request.method == "POST":
        apply = request.POST.get("apply") == "1"
        try:
            report = custom_field_type_change(
                object_api_name=api_name,
                api_name=name,
                new_type=new_type,
                dry_run=not apply,
                actor=Principal.from_request(request),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = [m for ms in errors_by_field(exc).values() for m in ms]
        else:
            if report["applied"]:
                messages.success(
                    request,
                    _("%(name)s is now of type %(type)s; %(count)s values converted.")
                    % {
                        "name": name,
                        "type": TYPE_LABELS.get(new_type, new_type),
                        "count": report["convertible"],
                    },
                )
                return redirect("settings_fields", api_name=api_name)
    return render(
        request,
        "settings/field_type_change.html",
        {
            "object": _object(api_name),
            "field": field,
            "types": [t for t in _type_choices() if t[0] not in (field["type"], "reference")],
            "type_labels": dict(_type_choices()),
            "new_type": new_type,
            "report": report,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
