"""REST resources for every object. Built-in objects live at ``/api/v1/<plural>/``
(``guests``, ``companies``, ``properties``, ``room-types``, ``rate-plans``,
``reservations``); tenant-defined objects at ``/api/v1/objects/<api_name>/records/``.
Custom fields travel in ``custom``, typed as defined; every write goes through the owning
service (crm's for built-ins, metadata's for tenant objects), so the API applies the
same rules as the UI, imports and workflows.

Query syntax (the integrators' contract): ``<field>=<value>`` or ``<field>__<op>=<value>``
with ops ne, in (comma separated), gt, gte, lt, lte, contains, isnull; custom fields are
written ``custom.<api_name>``; ``ordering=-points,surname`` (``custom.`` allowed);
``q=`` searches names, e-mails and phones; ``limit`` (1-100, default 50) and the opaque
``cursor`` of the previous page's ``next``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metadata.selectors.records import custom_filter, records_queryset
from metadata.services.modules import object_require
from tenants.access import policy, scoping
from tenants.errors import ApplicationError, NotFound

# A name never holds "__" (api names refuse it), so "__" always starts the operator.
PARAM_RE = re.compile(r"^(custom\.)?([a-z](?:[a-z0-9]|_(?!_))*)(?:__([a-z]+))?$")
RESERVED_PARAMS = {"ordering", "cursor", "limit", "q", "format"}
MAX_LIMIT = 100
# Collections of built-in objects: URL segment → object api name.
COLLECTIONS = {
    "guests": "guest",
    "companies": "company",
    "properties": "property",
    "room-types": "room_type",
    "rate-plans": "rate_plan",
    "reservations": "reservation",
    "cases": "case",
}
BULK_MAX = 1000
HIDDEN = {"id_document_number", "id_document_expiry", "custom", "data", "erased_at"}


def _value(obj: models.Model, field: models.Field) -> Any:
    if field.many_to_one:
        return getattr(obj, field.attname)
    return getattr(obj, field.name)


def _builtin_dict(obj: models.Model) -> dict:
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in HIDDEN:
            continue
        out[field.name] = _value(obj, field)
    if hasattr(obj, "id_document_number_masked"):
        out["id_document_number"] = obj.id_document_number_masked  # masked, never in clear
    out["custom"] = getattr(obj, "custom", {})
    return out


@dataclass(frozen=True)
class Adapter:
    """How the API reads and writes one built-in object through crm's services."""

    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    search: Callable[[QuerySet, str], QuerySet]


def _guest_adapter() -> Adapter:
    from crm.services.guests import guest_create, guest_update

    return Adapter(
        create=lambda data, user: guest_create(user=user, **data),
        update=lambda obj, data, user: guest_update(guest=obj, user=user, **data),
        search=lambda qs, q: qs.filter(
            Q(surname__icontains=q)
            | Q(given_name__icontains=q)
            | Q(email__icontains=q)
            | Q(phone__contains=q)
        ),
    )


def _company_adapter() -> Adapter:
    from crm.services.companies import company_create, company_update

    return Adapter(
        create=lambda data, user: company_create(user=user, **data),
        update=lambda obj, data, user: company_update(company=obj, user=user, **data),
        search=lambda qs, q: qs.filter(name__icontains=q),
    )


def _property_adapter() -> Adapter:
    from crm.services.properties import property_create, property_update

    return Adapter(
        create=lambda data, user: property_create(user=user, **data),
        update=lambda obj, data, user: property_update(property=obj, user=user, **data),
        search=lambda qs, q: qs.filter(Q(name__icontains=q) | Q(code__icontains=q)),
    )


def _reservation_adapter() -> Adapter:
    from crm.models import Guest, Property
    from crm.services.reservations import (
        reservation_create,
        reservation_status_change,
        reservation_update,
    )

    def resolve(data: dict) -> dict:
        data = dict(data)
        for name, model in (("property", Property), ("guest", Guest)):
            if name in data:
                found = model.objects.filter(pk=data[name]).first()
                if found is None:
                    raise ValidationError({name: f"No {name} with id {data[name]}."})
                data[name] = found
        return data

    def update(obj, data, user):
        data = resolve(data)
        status = data.pop("status", None)
        if data:
            obj = reservation_update(reservation=obj, user=user, **data)
        if status is not None and status != obj.status:
            obj = reservation_status_change(reservation=obj, status=status, user=user)
        return obj

    return Adapter(
        create=lambda data, user: reservation_create(user=user, **resolve(data)),
        update=update,
        search=lambda qs, q: qs.filter(confirmation_number__icontains=q),
    )


def _case_adapter() -> Adapter:
    from django.contrib.auth import get_user_model
    from django.utils.dateparse import parse_datetime

    from crm.models import Guest, Property, Reservation
    from crm.services.cases import case_create, case_update

    links = (
        ("guest", Guest),
        ("reservation", Reservation),
        ("property", Property),
        ("owner", get_user_model()),
    )

    def resolve(data: dict) -> dict:
        data = dict(data)
        for name, model in links:
            if data.get(name) is not None:
                found = model.objects.filter(pk=data[name]).first()
                if found is None:
                    raise ValidationError({name: f"No {name} with id {data[name]}."})
                data[name] = found
        if isinstance(data.get("deadline"), str):
            data["deadline"] = parse_datetime(data["deadline"].replace("Z", "+00:00"))
        return data

    return Adapter(
        create=lambda data, user: case_create(user=user, **resolve(data)),
        update=lambda obj, data, user: case_update(case=obj, user=user, **resolve(data)),
        search=lambda qs, q: qs.filter(subject__icontains=q),
    )


ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "case": _case_adapter,
    "guest": _guest_adapter,
    "company": _company_adapter,
    "property": _property_adapter,
    "reservation": _reservation_adapter,
}


# Where a record's hotel is, for staff limited to some hotels.
PROPERTY_LOOKUPS = {
    "property": "id",
    "room_type": "property_id",
    "rate_plan": "property_id",
    "reservation": "property_id",
    "guest": "reservations__property_id",
    "case": "property_id",
}


_MISSING = re.compile(r"missing \d+ required keyword-only arguments?: (.+)$")
_UNEXPECTED = re.compile(r"unexpected keyword argument '(.*)'$", re.S)


# Keys the crm services take beside model columns, with the JSON type they need.
_EXTRA_TYPES: dict[str, tuple[type, ...]] = {
    "emails": (list,),
    "phones": (list,),
    "addresses": (list,),
    "external_ids": (list,),
    "guests": (list,),
    "custom": (dict,),
    "guest": (int,),
    "property": (int,),
    "booker_guest": (int,),
    "booker_company": (int,),
    "room_type": (int,),
    "rate_plan": (int,),
}
_ITEM_TYPES: dict[str, tuple[type, ...]] = {
    "emails": (str,),
    "phones": (str,),
    "addresses": (dict,),
    "external_ids": (dict,),
    "guests": (int,),
}


def _types_check(model: type[models.Model], payload: dict) -> None:
    """Each value must have the JSON type its field takes; a 400 naming the field and
    the type beats a server error deep in a service."""
    errors: dict[str, str] = {}
    for key, value in payload.items():
        if value is None:
            continue
        expected: tuple[type, ...] | None = _EXTRA_TYPES.get(key)
        if expected is None:
            try:
                field = model._meta.get_field(key)
            except FieldDoesNotExist:  # unknown keys are the service's to refuse, by name
                continue
            internal = field.get_internal_type()
            if field.many_to_one:
                expected = (int,)
            elif internal in ("CharField", "TextField", "EmailField", "SlugField"):
                expected = (str,)
            elif internal in ("DateField", "DateTimeField"):
                expected = (str,)
                if isinstance(value, str):
                    try:
                        if internal == "DateField":
                            date.fromisoformat(value)
                        else:
                            datetime.fromisoformat(value.replace("Z", "+00:00"))
                    except ValueError:
                        errors[key] = f"{key} must be a date as YYYY-MM-DD."
                        continue
            elif internal in (
                "IntegerField",
                "PositiveIntegerField",
                "SmallIntegerField",
                "PositiveSmallIntegerField",
                "BigIntegerField",
            ):
                expected = (int,)
            elif internal == "DecimalField":
                expected = (int, float, str)
            elif internal == "BooleanField":
                expected = (bool,)
            elif internal == "ArrayField":
                expected = (list,)
            else:
                continue
        wrong = isinstance(value, bool) and bool not in expected
        if wrong or not isinstance(value, expected):
            names = " or ".join(_JSON_NAMES[t] for t in expected)
            errors[key] = f"{key} must be {names}."
            continue
        item_types = _ITEM_TYPES.get(key)
        if (
            item_types
            and isinstance(value, list)
            and any(not isinstance(item, item_types) or isinstance(item, bool) for item in value)
        ):
            errors[key] = f"Each item of {key} must be {_JSON_NAMES[item_types[0]]}."
    if errors:
        raise ValidationError(errors)


_JSON_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def _call_service(service: Callable[..., models.Model], *args) -> models.Model:
    """Call a crm service with the payload as keywords; a missing or unknown keyword is
    the client's mistake (400 naming the field), not a server error."""
    try:
        return service(*args)
    except TypeError as exc:
        text = str(exc)
        if missing := _MISSING.search(text):
            names = re.findall(r"'(\w+)'", missing.group(1))
            raise ValidationError(
                {n: ValidationError(f"{n} is required.", code="required") for n in names}
            ) from None
        if unexpected := _UNEXPECTED.search(text):
            name = unexpected.group(1)
            raise ValidationError({name: f"{name} is not a field you can set here."}) from None
        raise


class _Resource:
    """The object behind a request: its snapshot, queryset, (de)serialisation, writes,
    all through the access policy (role rights, field allowlist, API-key scopes, hotel
    scoping)."""

    def __init__(self, api_name: str, request: Request | None = None):
        self.snap = object_require(api_name)  # 404 unknown, 403 module off
        self.api_name = api_name
        self.builtin = self.snap.builtin is not None
        self.adapter = ADAPTERS[api_name]() if api_name in ADAPTERS else None
        self.user = getattr(request, "user", None)
        self.scopes = policy.request_scopes(request) if request is not None else None

    def allow(self, action: str) -> None:
        if self.user is not None:
            policy.object_require(self.user, self.api_name, action, scopes=self.scopes)

    def writable_fields(self, payload: dict) -> None:
        if self.user is None or not isinstance(payload, dict):
            return
        names = [k for k in payload if k != "custom"]
        custom = payload.get("custom")
        if isinstance(custom, dict):
            names += list(custom)
        policy.fields_require_editable(self.user, self.api_name, names, scopes=self.scopes)

    def out(self, obj) -> dict:
        data = self.to_dict(obj)
        if self.user is None:
            return data
        return policy.record_mask(self.user, self.api_name, data, scopes=self.scopes)

    def queryset(self) -> QuerySet:
        queryset = records_queryset(object_api_name=self.api_name)
        lookup = PROPERTY_LOOKUPS.get(self.api_name)
        if self.user is not None and lookup is not None:
            queryset = scoping.filter_by_properties(queryset, self.user, lookup=lookup)
            if "__" in lookup:
                queryset = queryset.distinct()
        return queryset

    def to_dict(self, obj) -> dict:
        if self.builtin:
            return _builtin_dict(obj)
        return {
            "id": obj.pk,
            "name": obj.name,
            "external_id": obj.external_id,
            "owner_id": obj.owner_id,
            "custom": obj.data,
            "created": obj.created,
            "updated": obj.updated,
        }

    def get(self, pk: str):
        try:
            obj = self.queryset().filter(pk=int(pk)).first()
        except ValueError:
            obj = None
        if obj is None:
            raise NotFound(f"No {self.api_name} with id {pk}.", field="id")
        return obj

    def _writable(self) -> Adapter:
        if self.adapter is None:
            raise ApplicationError(
                f"{self.api_name} records are read-only through the API.",
                code="read_only",
            )
        return self.adapter

    def create(self, payload: dict, user):
        if not isinstance(payload, dict):
            raise ValidationError({"body": "Send a JSON object."})
        if self.builtin:
            _types_check(self.snap.model(), payload)
            return _call_service(self._writable().create, dict(payload), user)
        from metadata.services.records import record_create

        data = dict(payload)
        custom = data.pop("custom", {})
        unknown = set(data) - {"name", "external_id", "owner_id"}
        if unknown:
            raise ValidationError({k: f"{k} is not a field of {self.api_name}." for k in unknown})
        return record_create(object_api_name=self.api_name, data=custom, **data)

    def update(self, obj, payload: dict, user):
        if not isinstance(payload, dict):
            raise ValidationError({"body": "Send a JSON object."})
        if self.builtin:
            _types_check(self.snap.model(), payload)
            return _call_service(self._writable().update, obj, dict(payload), user)
        from metadata.services.records import record_update

        data = dict(payload)
        custom = data.pop("custom", None)
        unknown = set(data) - {"name", "external_id", "owner_id"}
        if unknown:
            raise ValidationError({k: f"{k} is not a field of {self.api_name}." for k in unknown})
        return record_update(record=obj, data=custom, **data)

    def delete(self, obj) -> None:
        if self.builtin:
            raise ApplicationError(
                f"{self.api_name} records are not deleted through the API "
                "(guests are erased through the privacy tools).",
                code="not_deletable",
            )
        from metadata.services.records import record_delete

        record_delete(record=obj)

    def search(self, queryset: QuerySet, q: str) -> QuerySet:
        if self.adapter is not None:
            return self.adapter.search(queryset, q)
        return queryset.filter(name__icontains=q)


def _query_params(request: Request, resource: _Resource) -> tuple[list, list[str]]:
    """Filters as (field, op, value) and the ordering, with custom fields by their api
    name. Standard fields are written plainly, custom fields as ``custom.<name>``."""
    standard = {f.name for f in resource.queryset().model._meta.concrete_fields}
    custom = set(resource.snap.active_fields)

    def field_name(raw_name: str, is_custom: bool, param: str) -> str:
        if is_custom:
            if raw_name not in custom:
                raise ValidationError(
                    {param: f"{resource.api_name} has no custom field {raw_name!r}."}
                )
        elif raw_name not in standard or raw_name in HIDDEN:
            hint = f" (custom fields are written custom.{raw_name})" if raw_name in custom else ""
            raise ValidationError({param: f"{raw_name} is not a filterable field{hint}."})
        return raw_name

    filters = []
    for key, value in request.query_params.items():
        if key in RESERVED_PARAMS:
            continue
        match = PARAM_RE.match(key)
        if not match:
            raise ValidationError({key: "Use <field>=value, <field>__<op>=value or custom.<name>."})
        name = field_name(match.group(2), bool(match.group(1)), key)
        filters.append((name, match.group(3) or "eq", value))
    ordering = []
    for item in request.query_params.get("ordering", "").split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        match = PARAM_RE.match(item.lstrip("-"))
        if not match or match.group(3):
            raise ValidationError({"ordering": f"{item} is not a field to order by."})
        name = field_name(match.group(2), bool(match.group(1)), "ordering")
        ordering.append(f"-{name}" if descending else name)
    return filters, ordering


def _cursor_decode(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError({"cursor": "This cursor is not one the API gave out."}) from None


def _cursor_encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a whole number from 1 to {MAX_LIMIT}."})
    return int(raw)


class RecordBase(APIView):
    def initial(self, request, *args, **kwargs):
        # /api/v1/guests/ → "guest"; /api/v1/objects/<api_name>/records/ → a tenant object
        # (built-in objects answer only on their own collection).
        collection = kwargs.get("collection")
        if collection is not None:
            if collection not in COLLECTIONS:
                raise NotFound(f"There is no collection {collection!r}.", field="collection")
            self.kwargs["api_name"] = COLLECTIONS[collection]
        elif self.kwargs.get("api_name") in COLLECTIONS.values():
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
        snap = object_require(self.kwargs["api_name"])
        return snap.definition.module


class RecordListApi(RecordBase):
    def get(self, request, **kwargs):
        api_name = self.kwargs["api_name"]
        resource = _Resource(api_name, request)
        resource.allow("view")
        filters, sort = _query_params(request, resource)
        queryset = custom_filter(
            resource.queryset(), object_api_name=api_name, filters=filters, order_by=sort
        )
        if not sort:
            queryset = queryset.order_by("pk")
        q = request.query_params.get("q", "").strip()
        if "\x00" in q:
            raise ValidationError({"q": "The search cannot contain NUL characters."})
        if q:
            queryset = resource.search(queryset, q)
        limit, offset = _limit(request), _cursor_decode(request.query_params.get("cursor"))
        rows = list(queryset[offset : offset + limit + 1])
        more = len(rows) > limit
        next_url = None
        if more:
            params = request.query_params.copy()
            params["cursor"] = _cursor_encode(offset + limit)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        results = [resource.to_dict(r) for r in rows[:limit]]
        if resource.user is not None:
            results = policy.records_mask(resource.user, api_name, results, scopes=resource.scopes)
        return Response({"results": results, "next": next_url})

    def post(self, request, **kwargs):
        resource = _Resource(self.kwargs["api_name"], request)
        resource.allow("create")
        resource.writable_fields(request.data)
        obj = resource.create(request.data, request.user)
        return Response(resource.out(resource.get(obj.pk)), status=201)


class RecordDetailApi(RecordBase):
    def get(self, request, pk: str, **kwargs):
        resource = _Resource(self.kwargs["api_name"], request)
        resource.allow("view")
        return Response(resource.out(resource.get(pk)))

    def patch(self, request, pk: str, **kwargs):
        resource = _Resource(self.kwargs["api_name"], request)
        resource.allow("edit")
        resource.writable_fields(request.data)
        obj = resource.update(resource.get(pk), request.data, request.user)
        return Response(resource.out(resource.get(obj.pk)))

    def delete(self, request, pk: str, **kwargs):
        resource = _Resource(self.kwargs["api_name"], request)
        resource.allow("delete")
        resource.delete(resource.get(pk))
        return Response(status=204)


class RecordBulkApi(RecordBase):
    """Up to 1,000 records, each validated on its own (one failing record does not stop
    the others), upserted by ``external_id``; one result per record, in request order."""

    @staticmethod
    def _prepared(item, api_name, object_id, existing, seen, clean):
        from metadata.models import Record

        if not isinstance(item, dict):
            raise ValidationError({"record": "Each record is a JSON object."})
        unknown = set(item) - {"external_id", "name", "owner_id", "custom"}
        if unknown:
            raise ValidationError({k: f"{k} is not a field of {api_name}." for k in unknown})
        key = item.get("external_id")
        if not key or not isinstance(key, str) or len(key) > 100:
            raise ValidationError({"external_id": "Each record needs an external_id (text)."})
        if key in seen:
            raise ValidationError({"external_id": f"{key} appears twice in this request."})
        seen.add(key)
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise ValidationError({"name": "Name is text of at most 200 characters."})
        owner = item.get("owner_id")
        if owner is not None and (isinstance(owner, bool) or not isinstance(owner, int)):
            raise ValidationError({"owner_id": "owner_id is a user id (a whole number)."})
        record = existing.get(key)
        custom = item.get("custom") or {}
        if record is None:
            data = clean(object_api_name=api_name, values=custom)
            return Record(
                object_id=object_id,
                external_id=key,
                name=name or "",
                owner_id=item.get("owner_id"),
                data=data,
            ), True
        record.data = clean(
            object_api_name=api_name,
            values=custom,
            existing=record.data,
            partial=True,
            record_id=record.pk,
        )
        if name is not None:
            record.name = name
        if item.get("owner_id") is not None:
            record.owner_id = item["owner_id"]
        return record, False

    def post(self, request, **kwargs):
        api_name = self.kwargs["api_name"]
        resource = _Resource(api_name, request)
        resource.allow("create")
        resource.allow("edit")
        records = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(records, list) or not records:
            raise ValidationError({"records": 'Send {"records": [...]} with 1 to 1000 items.'})
        if len(records) > BULK_MAX:
            raise ValidationError({"records": f"At most {BULK_MAX} records per request."})
        if resource.builtin:
            return Response({"results": _builtin_bulk(resource, records, request.user)})
        from django.utils import timezone

        from metadata import events
        from metadata.definitions import snapshot_pinned
        from metadata.models import Record
        from metadata.services.records import record_event_values
        from metadata.services.values import custom_values_clean
        from saas.api.errors import django_validation_errors

        object_id = resource.snap.definition.pk
        keys = [r.get("external_id") for r in records if isinstance(r, dict)]
        existing = {
            r.external_id: r
            for r in Record.objects.filter(object_id=object_id, external_id__in=keys)
        }
        # What subscribers (webhooks, workflows) hear as the old values of updates.
        before = {key: record_event_values(r) for key, r in existing.items()}
        results: list[dict] = []
        creates: list[tuple[int, Record]] = []
        updates: list[tuple[int, Record]] = []
        seen: set[str] = set()
        now = timezone.now()
        # Each record is validated on its own; the valid ones are then written together.
        with snapshot_pinned():
            for index, item in enumerate(records):
                try:
                    record, created = self._prepared(
                        item, api_name, object_id, existing, seen, custom_values_clean
                    )
                except ValidationError as exc:
                    results.append(
                        {"index": index, "status": "error", "errors": django_validation_errors(exc)}
                    )
                    continue
                record.updated = now
                (creates if created else updates).append((index, record))
        with transaction.atomic():
            Record.objects.bulk_create([r for _, r in creates])
            Record.objects.bulk_update(
                [r for _, r in updates], ["name", "owner_id", "data", "updated"]
            )
            for _, record in creates:
                events.record_event_emit(
                    object_api_name=api_name,
                    action=events.CREATED,
                    record_id=record.pk,
                    new=record_event_values(record),
                    user_id=request.user.pk,
                )
            for _, record in updates:
                events.record_event_emit(
                    object_api_name=api_name,
                    action=events.UPDATED,
                    record_id=record.pk,
                    old=before[record.external_id],
                    new=record_event_values(record),
                    user_id=request.user.pk,
                )
        for index, record in creates:
            results.append({"index": index, "status": "created", "id": record.pk})
        for index, record in updates:
            results.append({"index": index, "status": "updated", "id": record.pk})
        results.sort(key=lambda r: r["index"])
        return Response({"results": results})


# How a bulk item of a built-in object finds the record it updates: the key it must carry
# and the lookup. Guests are matched by their id in the sending system
# (``external_source``, default API); reservations by hotel and confirmation number.
BULK_KEYS: dict[str, str] = {
    "guest": "external_id",
    "company": "external_id",
    "property": "code",
    "reservation": "confirmation_number",
}


def _builtin_existing(api_name: str, item: dict, key: str):
    from crm.models import Company, GuestExternalId, Property, Reservation

    if api_name == "guest":
        source = str(item.get("external_source") or "API").strip().upper()
        row = (
            GuestExternalId.objects.filter(source=source, property=None, external_id=key)
            .select_related("guest")
            .first()
        )
        return row.guest if row else None
    if api_name == "company":
        return Company.objects.filter(external_id=key).first()
    if api_name == "property":
        return Property.objects.filter(code=key).first()
    prop = item.get("property")
    if isinstance(prop, bool) or not isinstance(prop, int):
        raise ValidationError({"property": "Give the hotel's id (a whole number)."})
    return Reservation.objects.filter(property_id=prop, confirmation_number=key).first()


def _builtin_bulk(resource: _Resource, records: list, user) -> list[dict]:
    """Each record through the same services as single writes, in a savepoint of its own:
    one failing record leaves the others (and everything stored) as they were."""
    from saas.api.errors import django_validation_errors

    api_name = resource.api_name
    key_field = BULK_KEYS.get(api_name)
    if resource.adapter is None:
        raise ApplicationError(f"{api_name} records are read-only.", code="read_only")
    if key_field is None:
        raise ApplicationError(
            f"{api_name} records have no key to upsert on; create them one by one.",
            code="bulk_unsupported",
        )
    results: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(records):
        try:
            with transaction.atomic():
                if not isinstance(item, dict):
                    raise ValidationError({"record": "Each record is a JSON object."})
                key = item.get(key_field)
                if not isinstance(key, str) or not key.strip() or len(key) > 100:
                    raise ValidationError({key_field: f"Each record needs a {key_field} (text)."})
                if key in seen:
                    raise ValidationError({key_field: f"{key} appears twice in this request."})
                seen.add(key)
                data = dict(item)
                source = data.pop("external_source", None)
                resource.writable_fields(data)
                existing = _builtin_existing(api_name, item, key)
                if api_name == "guest":
                    data.pop("external_id")
                    if existing is None:
                        data["external_ids"] = [
                            {"source": str(source or "API"), "external_id": key}
                        ]
                _types_check(resource.snap.model(), data)
                if existing is None:
                    resource.allow("create")
                    obj = _call_service(resource.adapter.create, data, user)
                    results.append({"index": index, "status": "created", "id": obj.pk})
                else:
                    resource.allow("edit")
                    existing = resource.get(str(existing.pk))  # within the user's hotels
                    if api_name == "reservation":
                        data.pop("property", None)
                        data.pop("confirmation_number", None)
                    obj = _call_service(resource.adapter.update, existing, data, user)
                    results.append({"index": index, "status": "updated", "id": obj.pk})
        except ValidationError as exc:
            results.append(
                {"index": index, "status": "error", "errors": django_validation_errors(exc)}
            )
        except ApplicationError as exc:
            results.append({"index": index, "status": "error", "errors": exc.as_errors()})
    return results


class OtaReservationPushApi(APIView):
    """POST /api/v1/reservations/ota: OTA_HotelResNotifRQ as JSON (see crm.services.ota
    for the mapping); one result per reservation."""

    def module_for(self, request) -> str | None:
        return object_require("reservation").definition.module

    def post(self, request):
        from crm.services.ota import ota_reservations_push

        results = ota_reservations_push(payload=request.data, user=request.user)
        return Response({"results": results})


class RecordExportApi(RecordBase):
    """GET /api/v1/{guests|companies|reservations}/export/?file_format=csv|xlsx plus the
    list's filters: the file, with only the columns the caller may read. Every export is
    checked against the export right and written to the audit log first."""

    def get(self, request, **kwargs):
        from django.http import HttpResponse

        from crm.services.exports import records_export
        from crm.services.imports import COLUMNS
        from tenants.access.services import audit_export_log

        api_name = self.kwargs["api_name"]
        if api_name not in COLUMNS:
            raise NotFound(f"{api_name} records cannot be exported.", field="collection")
        resource = _Resource(api_name, request)
        file_format = request.query_params.get("file_format", "csv")
        if file_format not in ("csv", "xlsx"):
            raise ValidationError({"file_format": "Use csv or xlsx."})
        params = request.query_params.copy()
        params.pop("file_format", None)
        request._request.GET = params  # the list's filters, without the export option
        filters, sort = _query_params(request, resource)
        queryset = custom_filter(
            resource.queryset(), object_api_name=api_name, filters=filters, order_by=sort
        )
        model_fields = {f.name for f in queryset.model._meta.concrete_fields}
        columns = [
            c
            for c in COLUMNS[api_name]
            if c not in model_fields
            or policy.field_level(resource.user, api_name, c, scopes=resource.scopes) != "hidden"
        ]
        with transaction.atomic():
            audit_export_log(
                user=resource.user,
                object_api_name=api_name,
                record_count=queryset.count(),
                fields=columns,
                export_format=file_format,
                filters=params.dict(),
                scopes=resource.scopes,
            )
            content = records_export(
                object_api_name=api_name,
                queryset=queryset,
                file_format=file_format,
                columns=columns,
            )
        kind = (
            "text/csv"
            if file_format == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{api_name}s.{file_format}"'
        return response
