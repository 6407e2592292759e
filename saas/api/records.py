"""REST resources for every object. Built-in objects live at ``/api/v1/<collection>/``
(the collections crm registers: ``guests``, ``companies``, ``properties``,
``room-types``, ``rate-plans``, ``reservations``, ``cases``); tenant-defined objects at
``/api/v1/objects/<api_name>/records/``. Custom fields travel in ``custom``, typed as
defined.

Each view parses the request, passes the acting principal to one selector or service
(metadata's record doors, which hand built-in objects to crm's writers and services) and
renders what the principal may see. Nothing here decides a right: the services and
selectors ask the access policy. The list syntax is in ``saas.api.query``."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metadata.definitions import object_snapshot
from metadata.registry import builtin_collections
from metadata.selectors.records import record_for, records_list
from metadata.services.records import (
    object_record_create,
    object_record_delete,
    object_record_update,
    records_bulk_upsert,
)
from metadata.versions import etag
from saas.api.query import UNREADABLE, cursor_encode, list_query_parse
from saas.api.renderers import json_default
from tenants.access.principal import Principal
from tenants.errors import NotFound


def record_as_dict(
    obj: models.Model, *, builtin: bool, only: frozenset[str] | None = None
) -> dict[str, Any]:
    """The API's representation of a record (before masking by the reader's rights).
    ``only``: the keys wanted (what the reader may see, or asked for with ``fields=``);
    others are not even computed (no decryption of an identity number nobody sees)."""
    if not builtin:
        out = {
            "id": obj.pk,
            "name": obj.name,  # type: ignore[attr-defined]
            "external_id": obj.external_id,  # type: ignore[attr-defined]
            "owner_id": obj.owner_id,  # type: ignore[attr-defined]
            "custom": obj.data,  # type: ignore[attr-defined]
            "created": obj.created,  # type: ignore[attr-defined]
            "updated": obj.updated,  # type: ignore[attr-defined]
        }
        return out if only is None else _only(out, only)
    out = {}
    for field in obj._meta.concrete_fields:
        if field.name in UNREADABLE or (only is not None and field.name not in only):
            continue
        out[field.name] = getattr(obj, field.attname if field.many_to_one else field.name)
    if hasattr(obj, "id_document_number_masked") and (only is None or "id_document_number" in only):
        out["id_document_number"] = obj.id_document_number_masked  # masked, never in clear
    out["id"] = obj.pk
    if only is None or "custom" in only or any(k.startswith("custom.") for k in only):
        out["custom"] = getattr(obj, "custom", {})
    _related_add(type(obj), [out], only)
    return out if only is None else _only(out, only)


def _related_add(model, rows: list[dict[str, Any]], only: frozenset[str] | None) -> None:
    """The lists a built-in record carries beside its columns (a guest's e-mails and
    phones), for a whole page in one query per list, when the reader wants them."""
    from metadata.registry import builtin_objects

    obj = next((o for o in builtin_objects().values() if o.model_class() is model), None)
    if obj is None or obj.related_lists is None or not rows:
        return
    keys = [k for k in obj.related_keys if only is None or k in only]
    if not keys:
        return
    lists = obj.related_lists([row["id"] for row in rows])
    for row in rows:
        found = lists.get(row["id"], {})
        for key in keys:
            row[key] = found.get(key, [])


def _only(record: dict[str, Any], only: frozenset[str]) -> dict[str, Any]:
    picked = {k: v for k, v in record.items() if k == "id" or k in only}
    custom = record.get("custom")
    if isinstance(custom, dict):
        wanted = {k[len("custom.") :] for k in only if k.startswith("custom.")}
        if "custom" in only:
            picked["custom"] = custom
        elif wanted:
            picked["custom"] = {k: v for k, v in custom.items() if k in wanted}
    return picked


class RecordBase(APIView):
    def initial(self, request, *args, **kwargs):
        # /api/v1/guests/ → "guest"; /api/v1/objects/<api_name>/records/ → a tenant object
        # (built-in objects answer only on their own collection).
        collection = kwargs.get("collection")
        collections = builtin_collections()
        if collection is not None:
            if collection not in collections:
                raise NotFound(f"There is no collection {collection!r}.", field="collection")
            self.kwargs["api_name"] = collections[collection]
        elif self.kwargs.get("api_name") in collections.values():
            raise NotFound(
                f"{self.kwargs['api_name']} is a built-in object; use its own collection.",
                field="api_name",
            )
        super().initial(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        # One definitions snapshot per request (a version check, not one per lookup).
        from metadata.definitions import snapshot_pinned

        if not getattr(request, "tenant", None) or request.tenant.schema_name == "public":
            return super().dispatch(request, *args, **kwargs)
        with snapshot_pinned():
            return super().dispatch(request, *args, **kwargs)

    def module_for(self, request) -> str | None:
        return object_snapshot(self.kwargs["api_name"]).definition.module

    def body(self, request: Request) -> Any:
        """The JSON body a write needs: an absent one is a 400, not an empty change."""
        if request.stream is None:
            raise ValidationError({"body": "Send a JSON object."})
        return request.data

    @property
    def api_name(self) -> str:
        return self.kwargs["api_name"]

    def actor(self, request: Request) -> Principal:
        return Principal.from_request(request)

    def shown(self, request: Request, obj: models.Model) -> dict[str, Any]:
        builtin = object_snapshot(self.api_name).builtin is not None
        return self.actor(request).mask(self.api_name, record_as_dict(obj, builtin=builtin))

    def reread(self, request: Request, obj: models.Model, status: int = 200) -> Response:
        """A record just written, as the principal sees it now (it may have left their
        reach, e.g. a reservation moved to another hotel: then 404, like any read)."""
        found = record_for(
            actor=self.actor(request), object_api_name=self.api_name, record_id=obj.pk
        )
        return Response(self.shown(request, found), status=status, headers={"ETag": etag(found)})


def _rows(page, *, builtin: bool, only: frozenset[str]) -> list[dict[str, Any]]:
    """A page of built-in records as plain dicts straight from the query (no model
    instances: a 100-row page spends its time in the database, not in Python). The same
    keys and values as ``record_as_dict``."""
    model = page.model
    columns = [
        f
        for f in model._meta.concrete_fields
        if f.name not in UNREADABLE and (f.name in only or f.primary_key)
    ]
    identity = "id_document_number" in only and hasattr(model, "identity_masked")
    names = [f.attname for f in columns]
    if identity:
        names.append("id_document_number")
    custom = "custom" in only or any(k.startswith("custom.") for k in only)
    if custom:
        names.append("custom")
    out = []
    for values in page.values(*names):
        row = {f.name: values[f.attname] for f in columns}
        row["id"] = values["id"]
        if identity:
            row["id_document_number"] = model.identity_masked(values["id_document_number"])
        if custom:
            row["custom"] = values["custom"] or {}
        out.append(row if ("custom" in only or not custom) else _only(row, only))
    _related_add(model, out, only)
    return out


def _wanted(actor: Principal, api_name: str, snap, fields: list[str] | None) -> frozenset[str]:
    """The keys a list computes: those asked for with ``fields=`` (each must be readable:
    asking for a hidden field is a 403 naming it, as filtering by it is), else every key
    the reader may see."""
    if fields is not None:
        actor.require_readable(
            api_name, [f.removeprefix("custom.") for f in fields], purpose="read"
        )
        return frozenset(fields)
    names = [f.name for f in snap.model()._meta.concrete_fields] + ["id_document_number"]
    names += list(snap.builtin.related_keys) if snap.builtin is not None else []
    visible = actor.fields_visible(api_name, fields=names)
    return frozenset(visible | {"id", "custom"})


class RecordListApi(RecordBase):
    def get(self, request, **kwargs):
        actor = self.actor(request)
        snap = object_snapshot(self.api_name)
        query = list_query_parse(request.query_params, snap)
        queryset = records_list(
            actor=actor,
            object_api_name=self.api_name,
            filters=query.filters,
            order_by=query.ordering,
            search=query.search,
        )
        builtin = snap.builtin is not None
        only = _wanted(actor, self.api_name, snap, query.fields)
        if builtin and query.fields is not None:
            columns = {f.name for f in snap.model()._meta.concrete_fields}
            wanted_columns = {n for n in only if n in columns}
            if any(n.startswith("custom.") for n in only):
                wanted_columns.add("custom")
            if "id_document_number" in only:
                wanted_columns.add("id_document_number")
            queryset = queryset.only("pk", *sorted(wanted_columns))
        page = queryset[query.offset : query.offset + query.limit + 1]
        rows = _rows(page, builtin=builtin, only=only) if builtin else None
        if rows is None:
            rows = [record_as_dict(r, builtin=builtin, only=only) for r in page]
        next_url = None
        if len(rows) > query.limit:
            params = request.query_params.copy()
            params["cursor"] = cursor_encode(query.offset + query.limit)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        results = actor.mask_many(self.api_name, rows[: query.limit])
        body: dict[str, Any] = {"results": results, "next": next_url}
        if query.total:
            body["total"] = queryset.count()
        return Response(body)

    def post(self, request, **kwargs):
        obj = object_record_create(
            actor=self.actor(request), object_api_name=self.api_name, data=self.body(request)
        )
        return self.reread(request, obj, status=201)


def _same(a: Any, b: Any) -> bool:
    """Equal as the API writes them (a Decimal as its JSON number, dates as text)."""
    try:
        return orjson.dumps(a, default=json_default, option=orjson.OPT_UTC_Z) == orjson.dumps(
            b, default=json_default, option=orjson.OPT_UTC_Z
        )
    except TypeError:  # e.g. an integer past 64 bits: not what is stored, so a change
        return False


def _changes(data: Any, current: dict[str, Any]) -> Any:
    """A PATCH body without the keys that repeat what the reader was shown (a record read
    and sent back changes nothing, not even its version; a masked identity number sent
    back is not a new number). Anything else goes to the service as sent."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if key == "custom" and isinstance(value, dict) and isinstance(current.get(key), dict):
            shown = current[key]
            changed = {k: v for k, v in value.items() if k not in shown or not _same(v, shown[k])}
            if changed:
                out[key] = changed
        elif key not in current or not _same(value, current[key]):
            out[key] = value
    return out


class RecordDetailApi(RecordBase):
    def _get(self, request, pk: str, action: str):
        return record_for(
            actor=self.actor(request), object_api_name=self.api_name, record_id=pk, action=action
        )

    def get(self, request, pk: str, **kwargs):
        found = self._get(request, pk, "view")
        return Response(self.shown(request, found), headers={"ETag": etag(found)})

    def patch(self, request, pk: str, **kwargs):
        record = self._get(request, pk, "edit")
        data = _changes(self.body(request), self.shown(request, record))
        obj = object_record_update(
            actor=self.actor(request),
            object_api_name=self.api_name,
            record=record,
            data=data,
            if_match=request.headers.get("If-Match"),
        )
        return self.reread(request, obj)

    def delete(self, request, pk: str, **kwargs):
        object_record_delete(
            actor=self.actor(request),
            object_api_name=self.api_name,
            record=self._get(request, pk, "delete"),
            if_match=request.headers.get("If-Match"),
        )
        return Response(status=204)


def _objects_require(items: Any, name: str) -> None:
    """A batch is a list of JSON objects: anything else in it is a malformed request (a
    400 naming the place), while each object's content is answered per record."""
    if not isinstance(items, list):
        return  # the service names the missing list
    wrong = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    if wrong:
        raise ValidationError({f"{name}[{i}]": "Each item is a JSON object." for i in wrong[:20]})


class RecordBulkApi(RecordBase):
    """Up to 1,000 records, each validated on its own (one failing record does not stop
    the others), upserted by their key; one result per record, in request order."""

    def post(self, request, **kwargs):
        data = self.body(request)
        items = data.get("records") if isinstance(data, dict) else None
        _objects_require(items, "records")
        results = records_bulk_upsert(
            actor=self.actor(request), object_api_name=self.api_name, items=items
        )
        return Response({"results": results})


class OtaReservationPushApi(APIView):
    """POST /api/v1/reservations/ota: OTA_HotelResNotifRQ as JSON (see crm.services.ota
    for the mapping); one result per reservation."""

    def module_for(self, request) -> str | None:
        return object_snapshot("reservation").definition.module

    def post(self, request):
        from crm.services.ota import ota_reservations_push

        if request.stream is None:
            raise ValidationError({"body": "Send a JSON object."})
        if isinstance(request.data, dict):
            _objects_require(request.data.get("HotelReservations"), "HotelReservations")
        results = ota_reservations_push(payload=request.data, actor=Principal.from_request(request))
        return Response({"results": results})


class RecordExportApi(RecordBase):
    """GET /api/v1/{guests|companies|reservations}/export/?file_format=csv|xlsx plus the
    list's filters: the file, with only the columns the caller may read. The export
    right is checked and the export audited by the service first."""

    def get(self, request, **kwargs):
        from django.http import HttpResponse

        from crm.services.exports import records_export_for

        query = list_query_parse(request.query_params, object_snapshot(self.api_name), paged=False)
        file_format = request.query_params.get("file_format", "csv")
        content = records_export_for(
            actor=self.actor(request),
            object_api_name=self.api_name,
            filters=query.filters,
            order_by=query.ordering,
            search=query.search,
            file_format=file_format,
        )
        kind = (
            "text/csv"
            if file_format == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{self.api_name}s.{file_format}"'
        return response
