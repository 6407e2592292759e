"""Screens for the records of tenant-defined objects (record types made in the designer,
stored in metadata's generic Record table): the list (search by name, filters on
filterable custom fields, sort, pages), the detail page, the create/edit form generated
from metadata and the delete confirmation.

They follow the API's resource (``saas.api.records._Resource``): the object must exist
(404) and its module be on (403); built-in objects are not served here (they have their
own screens); every read and write goes through the access policy (role rights, field
masks, audited sensitive reads) and every write through metadata's record services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from metadata.models import Record
from metadata.selectors.definitions import object_describe, objects_list
from metadata.selectors.records import record_for, records_list
from metadata.services.modules import ModuleDisabled, object_require
from metadata.services.records import record_create, record_delete, record_update
from saas.ui.errors import errors_by_field
from saas.ui.records import (
    CUSTOM_PREFIX,
    CUSTOM_RECORD_FIELDS,
    RecordForm,
    country_choices,
    language_choices,
)
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, NotFound

PAGE_SIZE = 50
LIST_COLUMNS = 4  # custom fields shown as columns after the name
STANDARD_SORTS = ("name", "-name", "-updated", "-created")


def custom_objects_menu(user) -> list[dict]:
    """The tenant's live record types whose module is on and that the user may view,
    labelled in the reader's language: what the navigation lists."""
    return [
        {"api_name": o["api_name"], "label": o["label_plural"] or o["label"]}
        for o in objects_list(get_language())
        if not o["builtin"] and Principal.of(user).can(o["api_name"], "view")
    ]


def _object_for(actor: Principal, api_name: str, action: str) -> dict:
    """The described object, as the API resolves it: unknown or built-in → 404, module
    off → 403, then the user's right to ``action``."""
    try:
        snap = object_require(api_name)
    except NotFound:
        raise Http404(_("There is no such record type.")) from None
    except ModuleDisabled as exc:
        raise AccessDenied(exc.message, code=exc.code) from None
    if snap.builtin is not None:
        raise Http404(_("There is no such record type."))
    actor.require(api_name, action)
    return object_describe(api_name, get_language())


def _visible_fields(actor: Principal, described: dict) -> list[dict]:
    """Custom fields the user may see, in their sections and order."""
    fields = described["fields"]
    visible = actor.fields_visible(described["api_name"], fields=[f["api_name"] for f in fields])
    return sorted(
        (f for f in fields if f["api_name"] in visible),
        key=lambda f: (f["section"], f["position"]),
    )


def _record_for(actor: Principal, described: dict, record_id: int, action: str) -> Record:
    try:
        return record_for(
            actor=actor, object_api_name=described["api_name"], record_id=record_id, action=action
        )
    except NotFound:
        raise Http404(_("There is no such record.")) from None


def _as_dict(record: Record) -> dict:
    return {
        "id": record.pk,
        "name": record.name,
        "external_id": record.external_id,
        "owner_id": record.owner_id,
        "custom": dict(record.data or {}),
    }


def _sorts(columns: list[dict]) -> dict[str, tuple[str, str]]:
    """Sort key → (label, custom_filter ordering)."""
    out = {
        "name": (_("Name, A to Z"), "name"),
        "-name": (_("Name, Z to A"), "-name"),
        "-updated": (_("Recently changed first"), "-updated"),
        "-created": (_("Newest first"), "-created"),
    }
    for field in columns:
        name = field["api_name"]
        out[CUSTOM_PREFIX + name] = (
            _("%(field)s, ascending") % {"field": field["label"]},
            name,
        )
        out["-" + CUSTOM_PREFIX + name] = (
            _("%(field)s, descending") % {"field": field["label"]},
            "-" + name,
        )
    return out


@login_required
def record_list(request, api_name: str):
    actor = Principal.from_request(request)
    described = _object_for(actor, api_name, "view")
    fields = _visible_fields(actor, described)
    columns = fields[:LIST_COLUMNS]
    filterable = [f for f in fields if f["filterable"]]
    query = (request.GET.get("q") or "").strip()
    sorts = _sorts(columns)
    sort = request.GET.get("sort") or "name"
    if sort not in sorts:
        sort = "name"
    filters, chosen = [], {}
    for field in filterable:
        param = CUSTOM_PREFIX + field["api_name"]
        value = (request.GET.get(param) or "").strip()
        if value:
            op = "contains" if field["type"] == "multi_choice" else "eq"
            filters.append((field["api_name"], op, value))
            chosen[param] = value
    error = None
    try:
        records = records_list(
            actor=actor,
            object_api_name=api_name,
            filters=filters,
            order_by=[sorts[sort][1]],
            search=query,
        )
        page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
        list(page)  # a bad filter value fails here, inside the try
    except ValidationError as exc:
        error = " ".join(m for texts in errors_by_field(exc).values() for m in texts)
        page = Paginator(Record.objects.none(), PAGE_SIZE).get_page(1)
    # Masked as the API's lists are: hidden fields removed, sensitive reads audited.
    masked = actor.mask_many(api_name, [_as_dict(r) for r in page])
    rows = [
        {
            "id": row["id"],
            "name": row.get("name"),
            "cells": [
                {"field": f, "value": row.get("custom", {}).get(f["api_name"])} for f in columns
            ],
        }
        for row in masked
    ]
    params = dict(chosen)
    if query:
        params["q"] = query
    if sort != "name":
        params["sort"] = sort
    return render(
        request,
        "records/record_list.html",
        {
            "object": described,
            "page": page,
            "rows": rows,
            "columns": columns,
            "filterable": filterable,
            "q": query,
            "chosen": chosen,
            "sort": sort,
            "sorts": [(key, label) for key, (label, _order) in sorts.items()],
            "filter_params": urlencode(params),
            "error": error,
            "can_create": actor.can(api_name, "create"),
        },
        status=400 if error else 200,
    )


def _owner_email(owner_id: int | None) -> str:
    if owner_id is None:
        return ""
    user = get_user_model().objects.filter(pk=owner_id).first()
    return getattr(user, "email", "") or f"#{owner_id}"


@login_required
def record_detail(request, api_name: str, record_id: int):
    actor = Principal.from_request(request)
    described = _object_for(actor, api_name, "view")
    record = _record_for(actor, described, record_id, "view")
    masked = actor.mask(api_name, _as_dict(record))
    values = masked.get("custom", {})
    custom = [
        {"field": f, "value": values.get(f["api_name"]), "section": f["section"]}
        for f in _visible_fields(actor, described)
    ]
    return render(
        request,
        "records/record_detail.html",
        {
            "object": described,
            "record": record,
            "shown": masked,
            "owner": _owner_email(masked["owner_id"]) if "owner_id" in masked else None,
            "custom": custom,
            "can_edit": actor.can(api_name, "edit"),
            "can_delete": actor.can(api_name, "delete"),
        },
    )


def _choices() -> dict:
    return {"countries": country_choices(), "languages": language_choices()}


def _save(form: RecordForm, save) -> Record | None:
    try:
        payload = form.payload()
        record = save(payload)
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        form.add_errors(errors_by_field(exc))
        return None
    return record


@login_required
def record_create_view(request, api_name: str):
    described = _object_for(Principal.from_request(request), api_name, "create")
    form = RecordForm(
        object_api_name=api_name,
        actor=Principal.from_request(request),
        data=request.POST if request.method == "POST" else None,
        standard=CUSTOM_RECORD_FIELDS,
    )
    if request.method == "POST":
        record = _save(
            form,
            lambda payload: record_create(
                object_api_name=api_name,
                data=payload.pop("custom", {}),
                owner_id=request.user.pk,
                actor=Principal.from_request(request),
                **payload,
            ),
        )
        if record is not None:
            messages.success(request, _("Record created."))
            return redirect("custom_record_detail", api_name=api_name, record_id=record.pk)
    return render(
        request,
        "records/record_form.html",
        {"form": form, "object": described, "record": None, **_choices()},
        status=400 if form.has_errors else 200,
    )


@login_required
def record_edit_view(request, api_name: str, record_id: int):
    actor = Principal.from_request(request)
    described = _object_for(actor, api_name, "edit")
    record = _record_for(actor, described, record_id, "edit")
    form = RecordForm(
        object_api_name=api_name,
        actor=Principal.from_request(request),
        instance=record,
        data=request.POST if request.method == "POST" else None,
        standard=CUSTOM_RECORD_FIELDS,
    )
    if request.method == "POST":
        saved = _save(
            form,
            lambda payload: record_update(
                record=record,
                data=payload.pop("custom", None),
                actor=Principal.from_request(request),
                **payload,
            ),
        )
        if saved is not None:
            messages.success(request, _("Changes saved."))
            return redirect("custom_record_detail", api_name=api_name, record_id=record.pk)
    return render(
        request,
        "records/record_form.html",
        {"form": form, "object": described, "record": record, **_choices()},
        status=400 if form.has_errors else 200,
    )


@login_required
def record_delete_view(request, api_name: str, record_id: int):
    """GET asks for confirmation; POST deletes."""
    actor = Principal.from_request(request)
    described = _object_for(actor, api_name, "delete")
    record = _record_for(actor, described, record_id, "delete")
    if request.method == "POST":
        record_delete(record=record, actor=Principal.from_request(request))
        messages.success(request, _("Record deleted."))
        return redirect("custom_record_list", api_name=api_name)
    return render(request, "records/record_delete.html", {"object": described, "record": record})
