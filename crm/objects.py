"""The built-in objects of crm by api name, as the metadata engine, the activity
timeline and the audit log refer to them."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from tenants.errors import ApplicationError, NotFound


def builtin_objects() -> dict[str, type[models.Model]]:
    from crm import models as m

    return {
        "property": m.Property,
        "room_type": m.RoomType,
        "rate_plan": m.RatePlan,
        "guest": m.Guest,
        "company": m.Company,
        "reservation": m.Reservation,
        "case": m.Case,
    }


def record_get(*, object_api_name: str, record_id: str | int) -> models.Model:
    model = builtin_objects().get(object_api_name)
    if model is None:
        from metadata.definitions import snapshot
        from metadata.services.records import record_get as custom_record_get

        if object_api_name not in snapshot():
            raise ApplicationError(
                f"Unknown object {object_api_name!r}.",
                code="unknown_object",
                field="object_api_name",
            )
        try:
            return custom_record_get(object_api_name=object_api_name, record_id=int(record_id))
        except ValueError as exc:
            raise NotFound(f"No {object_api_name} with id {record_id}.", field="record_id") from exc
    try:
        return model._default_manager.get(pk=int(record_id))
    except (ValueError, ObjectDoesNotExist) as exc:
        raise NotFound(f"No {object_api_name} with id {record_id}.", field="record_id") from exc
