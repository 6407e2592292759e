"""Records of tenant-defined objects (the generic table), and record lookups by api name
for built-in and tenant-defined objects alike."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from metadata import events
from metadata.definitions import object_snapshot
from metadata.models import Record
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict, NotFound, PreconditionFailed


def _custom_object(object_api_name: str):
    snap = object_snapshot(object_api_name)
    if snap.builtin is not None:
        raise ApplicationError(
            f"{object_api_name} is a built-in object; use its own service.",
            code="builtin_object",
            field="object",
        )
    return snap


def _standard(name: object, external_id: object) -> None:
    errors = {}
    if name is not None and not isinstance(name, str):
        errors["name"] = "name must be text."
    elif name is not None and len(name) > 200:
        errors["name"] = "Name is longer than 200 characters."
    if external_id is not None and not isinstance(external_id, str):
        errors["external_id"] = "external_id must be text."
    elif external_id is not None and len(external_id) > 100:
        errors["external_id"] = "External id is longer than 100 characters."
    if errors:
        raise ValidationError(errors)


def _owner_check(owner_id: object) -> int | None:
    """An owner is an active user of this tenant, given by id."""
    if owner_id is None:
        return None
    if isinstance(owner_id, bool) or not isinstance(owner_id, int):
        raise ValidationError({"owner_id": "owner_id is a user id (a whole number)."})
    from django.contrib.auth import get_user_model

    if not -(2**63) <= owner_id < 2**63:
        raise ValidationError({"owner_id": "owner_id is out of range for an id."})
    if not get_user_model().objects.filter(pk=owner_id, is_active=True).exists():
        raise NotFound(f"There is no active user with id {owner_id}.", field="owner_id")
    return owner_id


@transaction.atomic
def record_create(
    *,
    object_api_name: str,
    data: dict,
    name: str = "",
    external_id: str | None = None,
    owner_id: int | None = None,
    actor: Principal,
) -> Record:
    from metadata.services.values import custom_values_clean

    snap = _custom_object(object_api_name)
    actor.require(object_api_name, "create")
    actor.require_editable(
        object_api_name,
        [
            *data,
            *(
                n
                for n, v in (("name", name), ("external_id", external_id), ("owner_id", owner_id))
                if v
            ),
        ],
    )
    _standard(name, external_id)
    owner_id = _owner_check(owner_id)
    clean = custom_values_clean(object_api_name=object_api_name, values=data)
    try:
        with transaction.atomic():
            record = Record.objects.create(
                object=snap.definition,
                name=name,
                external_id=external_id or None,
                owner_id=owner_id,
                data=clean,
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A {object_api_name} with external id {external_id} already exists.",
            field="external_id",
        ) from exc
    events.record_event_emit(
        object_api_name=object_api_name,
        action=events.CREATED,
        record_id=record.pk,
        new=record_event_values(record),
        user_id=actor.user_id,
    )
    return record


def record_event_values(record: Record) -> dict:
    return {
        "name": record.name,
        "external_id": record.external_id,
        "owner_id": record.owner_id,
        "custom": dict(record.data),
    }


@transaction.atomic
def record_update(
    *,
    record: Record,
    data: dict | None = None,
    name: str | None = None,
    external_id: str | None = None,
    owner_id: int | None = None,
    actor: Principal,
) -> Record:
    from metadata.services.values import custom_values_clean

    snap = _custom_object(record.object.api_name)
    actor.require(snap.api_name, "edit")
    actor.require_editable(
        snap.api_name,
        [
            *(data or {}),
            *(
                n
                for n, v in (("name", name), ("external_id", external_id), ("owner_id", owner_id))
                if v is not None
            ),
        ],
    )
    _standard(name, external_id)
    owner_id = _owner_check(owner_id)
    old = record_event_values(record)
    if data is not None:
        record.data = custom_values_clean(
            object_api_name=snap.api_name,
            values=data,
            existing=record.data,
            partial=True,
            record_id=record.pk,
        )
    if name is not None:
        record.name = name
    if external_id is not None:
        record.external_id = external_id or None
    if owner_id is not None:
        record.owner_id = owner_id
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise Conflict(
            f"A {snap.api_name} with external id {record.external_id} already exists.",
            field="external_id",
        ) from exc
    events.record_event_emit(
        object_api_name=snap.api_name,
        action=events.UPDATED,
        record_id=record.pk,
        old=old,
        new=record_event_values(record),
        user_id=actor.user_id,
    )
    return record


@transaction.atomic
def record_delete(*, record: Record, actor: Principal) -> None:
    old, pk, api_name = record_event_values(record), record.pk, record.object.api_name
    actor.require(api_name, "delete")
    record.delete()
    events.record_event_emit(
        object_api_name=api_name,
        action=events.DELETED,
        record_id=pk,
        old=old,
        user_id=actor.user_id,
    )


def record_get(*, object_api_name: str, record_id: int) -> Record:
    snap = _custom_object(object_api_name)
    record = Record.objects.filter(object_id=snap.definition.pk, pk=record_id).first()
    if record is None:
        raise NotFound(f"No {object_api_name} with id {record_id}.", field="id")
    return record


# --- the generic record doors: one entry per write, whatever the object ----------------

STANDARD_KEYS = ("name", "external_id", "owner_id")
BULK_MAX = 1000


def _writer(object_api_name: str, action: str):
    from metadata.registry import builtin_object

    builtin = builtin_object(object_api_name)
    writer = builtin.writer if builtin is not None else None
    if builtin is not None and (writer is None or getattr(writer, action) is None):
        raise ApplicationError(
            f"{object_api_name} records are read-only here.", code="read_only", field="object"
        )
    return writer


def _custom_payload(object_api_name: str, data: Any) -> tuple[dict, dict | None]:
    if not isinstance(data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    values = dict(data)
    custom = values.pop("custom", None)
    unknown = sorted(set(values) - set(STANDARD_KEYS))
    if unknown:
        raise ValidationError({k: f"{k} is not a field of {object_api_name}." for k in unknown})
    if custom is not None and not isinstance(custom, dict):
        raise ValidationError({"custom": "custom must be an object of field values."})
    return values, custom


def object_record_create(*, actor: Principal, object_api_name: str, data: Any):
    """Create a record of any object from JSON-shaped data (built-in objects through
    their owner's writer and services, tenant objects through ``record_create``)."""
    actor.require(object_api_name, "create")
    writer = _writer(object_api_name, "create")
    if writer is not None:
        return writer.create(actor=actor, data=data)
    values, custom = _custom_payload(object_api_name, data)
    return record_create(object_api_name=object_api_name, data=custom or {}, actor=actor, **values)


def _version_require(record, if_match: str | None):
    """With If-Match, the row is locked and must still be the version the client read:
    a concurrent change between its read and this write is a 412, not a lost update."""
    if if_match is None:
        return record
    from metadata.versions import etag_matches

    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if not etag_matches(if_match, locked):
        raise PreconditionFailed(
            "The record changed since the version named in If-Match; read it again.",
            field="If-Match",
        )
    return locked


@transaction.atomic
def object_record_update(
    *, actor: Principal, object_api_name: str, record, data: Any, if_match: str | None = None
):
    actor.require(object_api_name, "edit")
    record = _version_require(record, if_match)
    if data == {}:
        return record  # nothing to change: nothing written, no event, same version
    writer = _writer(object_api_name, "update")
    if writer is not None:
        return writer.update(actor=actor, record=record, data=data)
    values, custom = _custom_payload(object_api_name, data)
    return record_update(record=record, data=custom, actor=actor, **values)


@transaction.atomic
def object_record_delete(
    *, actor: Principal, object_api_name: str, record, if_match: str | None = None
) -> None:
    from metadata.registry import builtin_object

    actor.require(object_api_name, "delete")
    if builtin_object(object_api_name) is not None:
        raise ApplicationError(
            f"{object_api_name} records are not deleted here (guests are erased through "
            "the privacy tools).",
            code="not_deletable",
        )
    record_delete(record=_version_require(record, if_match), actor=actor)


def _validation_errors(exc: ValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": None if f == "__all__" else f, "code": e.code or "invalid", "message": m}
            for f, errors in exc.error_dict.items()
            for e in errors
            for m in e.messages
        ]
    return [
        {"field": None, "code": e.code or "invalid", "message": m}
        for e in exc.error_list
        for m in e.messages
    ]


def records_bulk_upsert(
    *, actor: Principal, object_api_name: str, items: Any, set_based: bool = True
) -> list[dict]:
    """Up to BULK_MAX records upserted by their key (``external_id`` for tenant objects,
    the writer's ``bulk_key`` for built-in ones), each through the same path as a single
    write in a savepoint of its own: one bad record fails alone, with its errors, and
    leaves everything stored as it was. One result per record, in request order."""
    if not isinstance(items, list) or not items:
        raise ValidationError({"records": f'Send {{"records": [...]}} with 1 to {BULK_MAX} items.'})
    if len(items) > BULK_MAX:
        raise ValidationError({"records": f"At most {BULK_MAX} records per request."})
    from metadata.registry import builtin_object

    # An upsert creates or updates: refuse at once a principal who may do neither (each
    # record is then checked for the one it needs).
    try:
        actor.require(object_api_name, "create")
    except AccessDenied:
        actor.require(object_api_name, "edit")
    builtin = builtin_object(object_api_name)
    writer = builtin.writer if builtin is not None else None
    if builtin is not None and (writer is None or writer.create is None):
        raise ApplicationError(
            f"{object_api_name} records are read-only here.", code="read_only", field="object"
        )
    if builtin is not None and writer.bulk_key is None:  # type: ignore[union-attr]
        raise ApplicationError(
            f"{object_api_name} records have no key to upsert on; create them one by one.",
            code="bulk_unsupported",
        )
    if writer is None:
        return _custom_bulk(actor, object_api_name, items)
    if set_based and writer.bulk_upsert is not None:
        return writer.bulk_upsert(actor=actor, items=items)
    key_field: str = writer.bulk_key  # type: ignore[assignment]  # checked above
    results: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            with transaction.atomic():
                if not isinstance(item, dict):
                    raise ValidationError({"record": "Each record is a JSON object."})
                key = item.get(key_field)
                if not isinstance(key, str) or not key.strip() or len(key) > 100:
                    raise ValidationError(
                        {key_field: f"Each record needs a {key_field} (text of 1-100 characters)."}
                    )
                if key in seen:
                    raise ValidationError({key_field: f"{key} appears twice in this request."})
                seen.add(key)
                status, record = _bulk_one(actor, object_api_name, writer, item, key)
                results.append({"index": index, "status": status, "id": record.pk})
        except ValidationError as exc:
            results.append({"index": index, "status": "error", "errors": _validation_errors(exc)})
        except ApplicationError as exc:
            results.append({"index": index, "status": "error", "errors": exc.as_errors()})
    return results


def _bulk_one(actor: Principal, object_api_name: str, writer, item: dict, key: str):
    from metadata.selectors.records import record_for

    if writer is None:
        snap = _custom_object(object_api_name)
        found = Record.objects.filter(object_id=snap.definition.pk, external_id=key).first()
    else:
        found = writer.bulk_find(item=item)
    if found is None:
        data = item if writer is None else writer.bulk_prepare(item=item, found=None)
        return "created", object_record_create(
            actor=actor, object_api_name=object_api_name, data=data
        )
    # The record to update must be within the principal's reach, like a single PATCH.
    found = record_for(
        actor=actor, object_api_name=object_api_name, record_id=found.pk, action="edit"
    )
    data = dict(item) if writer is None else writer.bulk_prepare(item=item, found=found)
    if writer is None:
        data.pop("external_id", None)
    return "updated", object_record_update(
        actor=actor, object_api_name=object_api_name, record=found, data=data
    )


def _custom_prepared(actor: Principal, snap, item: Any, existing: dict, seen: set, clean):
    if not isinstance(item, dict):
        raise ValidationError({"record": "Each record is a JSON object."})
    unknown = set(item) - {"external_id", "name", "owner_id", "custom"}
    if unknown:
        raise ValidationError({k: f"{k} is not a field of {snap.api_name}." for k in unknown})
    key = item.get("external_id")
    if not key or not isinstance(key, str) or len(key) > 100:
        raise ValidationError({"external_id": "Each record needs an external_id (text)."})
    if key in seen:
        raise ValidationError({"external_id": f"{key} appears twice in this request."})
    seen.add(key)
    name = item.get("name")
    _standard(name, key)
    owner_id = _owner_check(item.get("owner_id"))
    custom = item.get("custom") or {}
    if not isinstance(custom, dict):
        raise ValidationError({"custom": "custom must be an object of field values."})
    record = existing.get(key)
    actor.require(snap.api_name, "create" if record is None else "edit")
    actor.require_editable(
        snap.api_name,
        [*custom, *(n for n in ("name", "owner_id") if item.get(n) is not None)],
    )
    if record is None:
        data = clean(object_api_name=snap.api_name, values=custom)
        return Record(
            object_id=snap.definition.pk,
            external_id=key,
            name=name or "",
            owner_id=owner_id,
            data=data,
        ), True
    record.data = clean(
        object_api_name=snap.api_name,
        values=custom,
        existing=record.data,
        partial=True,
        record_id=record.pk,
    )
    if name is not None:
        record.name = name
    if owner_id is not None:
        record.owner_id = owner_id
    return record, False


def _custom_bulk(actor: Principal, object_api_name: str, items: list) -> list[dict]:
    """Records of a tenant-defined object: each validated (and its rights checked) on
    its own, then the valid ones written together -- one INSERT, one UPDATE and their
    events -- since the generic table has no child rows to keep in step."""
    from django.utils import timezone

    from metadata.definitions import snapshot_pinned
    from metadata.services.values import custom_values_clean

    snap = _custom_object(object_api_name)
    keys = [r.get("external_id") for r in items if isinstance(r, dict)]
    keys = [k for k in keys if isinstance(k, str)]
    # Updates only reach records the principal could open one by one.
    existing = {
        r.external_id: r
        for r in Record.objects.filter(object_id=snap.definition.pk, external_id__in=keys)
    }
    before = {key: record_event_values(r) for key, r in existing.items()}
    results: list[dict] = []
    creates: list[tuple[int, Record]] = []
    updates: list[tuple[int, Record]] = []
    seen: set[str] = set()
    now = timezone.now()
    with snapshot_pinned():
        for index, item in enumerate(items):
            try:
                record, created = _custom_prepared(
                    actor, snap, item, existing, seen, custom_values_clean
                )
            except ValidationError as exc:
                results.append(
                    {"index": index, "status": "error", "errors": _validation_errors(exc)}
                )
                continue
            except ApplicationError as exc:
                results.append({"index": index, "status": "error", "errors": exc.as_errors()})
                continue
            record.updated = now
            (creates if created else updates).append((index, record))
    with transaction.atomic():
        Record.objects.bulk_create([r for _, r in creates])
        Record.objects.bulk_update([r for _, r in updates], ["name", "owner_id", "data", "updated"])
        for _, record in creates:
            events.record_event_emit(
                object_api_name=object_api_name,
                action=events.CREATED,
                record_id=record.pk,
                new=record_event_values(record),
                user_id=actor.user_id,
            )
        for _, record in updates:
            events.record_event_emit(
                object_api_name=object_api_name,
                action=events.UPDATED,
                record_id=record.pk,
                old=before[record.external_id],
                new=record_event_values(record),
                user_id=actor.user_id,
            )
    results += [{"index": i, "status": "created", "id": r.pk} for i, r in creates]
    results += [{"index": i, "status": "updated", "id": r.pk} for i, r in updates]
    results.sort(key=lambda r: r["index"])
    return results
