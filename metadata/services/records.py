"""Records of tenant-defined objects (the generic table), and record lookups by api name
for built-in and tenant-defined objects alike."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from metadata import events
from metadata.definitions import object_snapshot, snapshot
from metadata.models import Record
from tenants.errors import ApplicationError, Conflict, NotFound


def record_exists(*, object_api_name: str, record_id: int) -> bool:
    snap = snapshot().get(object_api_name)
    if snap is None:
        return False
    queryset = snap.model()._default_manager.filter(pk=record_id)
    if snap.builtin is None:
        queryset = queryset.filter(object_id=snap.definition.pk)
    return queryset.exists()


def _custom_object(object_api_name: str):
    snap = object_snapshot(object_api_name)
    if snap.builtin is not None:
        raise ApplicationError(
            f"{object_api_name} is a built-in object; use its own service.",
            code="builtin_object",
            field="object",
        )
    return snap


def _standard(name: str | None, external_id: str | None) -> dict:
    errors = {}
    if name is not None and len(name) > 200:
        errors["name"] = "Name is longer than 200 characters."
    if external_id is not None and len(external_id) > 100:
        errors["external_id"] = "External id is longer than 100 characters."
    if errors:
        raise ValidationError(errors)
    return {}


@transaction.atomic
def record_create(
    *,
    object_api_name: str,
    data: dict,
    name: str = "",
    external_id: str | None = None,
    owner_id: int | None = None,
) -> Record:
    from metadata.services.values import custom_values_clean

    snap = _custom_object(object_api_name)
    _standard(name, external_id)
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
) -> Record:
    from metadata.services.values import custom_values_clean

    snap = _custom_object(record.object.api_name)
    _standard(name, external_id)
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
    record.save()
    events.record_event_emit(
        object_api_name=snap.api_name,
        action=events.UPDATED,
        record_id=record.pk,
        old=old,
        new=record_event_values(record),
    )
    return record


@transaction.atomic
def record_delete(*, record: Record) -> None:
    old, pk, api_name = record_event_values(record), record.pk, record.object.api_name
    record.delete()
    events.record_event_emit(object_api_name=api_name, action=events.DELETED, record_id=pk, old=old)


def record_get(*, object_api_name: str, record_id: int) -> Record:
    snap = _custom_object(object_api_name)
    record = Record.objects.filter(object_id=snap.definition.pk, pk=record_id).first()
    if record is None:
        raise NotFound(f"No {object_api_name} with id {record_id}.", field="id")
    return record
