"""How the generic record doors (the REST collections and their bulk upsert) write crm's
built-in objects: one typed input layer (JSON values to the types the services take, a
400 naming the field for anything else) in front of crm's services, which ask the access
policy. Registered with metadata's registry in ``CrmConfig.ready()``, so the API layer
lists no crm object itself."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone

from crm.services.cases import CASE_FIELDS
from crm.services.companies import COMPANY_FIELDS
from crm.services.guests import GUEST_FIELDS
from crm.services.properties import PROPERTY_FIELDS
from crm.services.reservations import RESERVATION_FIELDS
from metadata.registry import RecordWriter
from tenants.access.principal import Principal
from tenants.errors import NotFound

# JSON shapes of the keys the services take beside model columns: (type, item type).
LIST_OF_TEXT = (list, str)
LIST_OF_OBJECTS = (list, dict)
OBJECT = (dict, None)
ID = (int, None)
_JSON_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "an object"}
_INT_BOUNDS = {
    "SmallIntegerField": (-32768, 32767),
    "PositiveSmallIntegerField": (0, 32767),
    "IntegerField": (-(2**31), 2**31 - 1),
    "PositiveIntegerField": (0, 2**31 - 1),
    "BigIntegerField": (-(2**63), 2**63 - 1),
    "PositiveBigIntegerField": (0, 2**63 - 1),
    "AutoField": (1, 2**31 - 1),
    "BigAutoField": (1, 2**63 - 1),
}


def _text(value: Any, name: str, limit: int | None) -> str:
    if not isinstance(value, str):
        raise ValidationError({name: f"{name} must be text."})
    if limit is not None and len(value) > limit:
        raise ValidationError({name: f"{name} is longer than {limit} characters."})
    return value


def _integer(value: Any, name: str, internal: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"{name} must be a whole number."})
    low, high = _INT_BOUNDS.get(internal, (-(2**63), 2**63 - 1))
    if not low <= value <= high:
        raise ValidationError({name: f"{name} must be between {low} and {high}."})
    return value


# Digits with an optional point: no exponents, underscores or words (Decimal takes them).
DECIMAL_TEXT = re.compile(r"\s*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*")


def _decimal(value: Any, name: str, field: models.DecimalField) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError({name: f"{name} must be a number (or a decimal string)."})
    if isinstance(value, str) and not DECIMAL_TEXT.fullmatch(value):
        raise ValidationError({name: f"{name} must be a decimal number such as 120.50."})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({name: f"{name} must be a number, not {value!r}."}) from None
    if not amount.is_finite():
        raise ValidationError({name: f"{name} must be a finite number."})
    digits = field.max_digits or 30
    places = field.decimal_places or 0
    if abs(amount) >= Decimal(10) ** (digits - places):
        raise ValidationError({name: f"{name} must be below 10^{digits - places}."})
    return amount


def _date(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise ValidationError({name: f"{name} must be a date as YYYY-MM-DD."})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: f"{name} must be a date as YYYY-MM-DD."}) from None


def _datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError({name: f"{name} must be a date-time in ISO 8601."})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({name: f"{name} must be a date-time in ISO 8601."}) from None
    if timezone.is_naive(parsed):
        raise ValidationError({name: f"{name} needs a time zone (e.g. Z or +01:00)."})
    return parsed


def _shaped(value: Any, name: str, shape: tuple) -> Any:
    outer, item = shape
    if isinstance(value, bool) or not isinstance(value, outer):
        raise ValidationError({name: f"{name} must be {_JSON_NAMES[outer]}."})
    if item is not None and any(isinstance(i, bool) or not isinstance(i, item) for i in value):
        raise ValidationError({name: f"Each item of {name} must be {_JSON_NAMES[item]}."})
    return value


def typed(model: type[models.Model], data: Any, extra: Mapping[str, tuple]) -> dict:
    """``data`` with each value converted to what the model's field (or the service's
    extra key) takes. Unknown keys are left for the service to refuse by name; links
    stay ids here (the writer resolves them)."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        try:
            out[name] = _typed_value(model, name, value, extra)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return out


def _typed_value(model: type[models.Model], name: str, value: Any, extra: Mapping) -> Any:
    if value is None and name in extra:
        if extra[name][0] is list:
            raise ValidationError({name: f"{name} cannot be null; send a list (or [])."})
        return None
    if value is None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if isinstance(field, models.Field) and not field.null:
            raise ValidationError({name: f'{name} cannot be null; send a value (or "").'})
        return None
    if name in extra:
        return _shaped(value, name, extra[name])
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return value  # the service names it as unknown
    if field.many_to_one:
        return _integer(value, name, "BigIntegerField")
    internal = field.get_internal_type()
    if internal in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
        return _text(value, name, getattr(field, "max_length", None))
    if internal in _INT_BOUNDS:
        return _integer(value, name, internal)
    if internal == "DecimalField":
        return _decimal(value, name, field)  # type: ignore[arg-type]
    if internal == "DateField":
        return _date(value, name)
    if internal == "DateTimeField":
        return _datetime(value, name)
    if internal == "BooleanField":
        if not isinstance(value, bool):
            raise ValidationError({name: f"{name} must be true or false."})
        return value
    if internal == "ArrayField":
        return _shaped(value, name, LIST_OF_TEXT)
    if internal == "JSONField":
        return _shaped(value, name, OBJECT)
    return value


def known(data: Any, allowed: set[str] | frozenset[str], object_api_name: str) -> dict:
    """Refuse, by name, every key a write of this object does not take."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "Send a JSON object."})
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ValidationError(
            {
                k: ValidationError(
                    f"{k} is not a {object_api_name} field you can set here.", code="unknown_field"
                )
                for k in unknown[:20]
            }
        )
    return data


def required(data: dict, *names: str) -> None:
    missing = [n for n in names if data.get(n) in (None, "")]
    if missing:
        raise ValidationError(
            {n: ValidationError(f"{n} is required.", code="required") for n in missing}
        )


def _link(
    actor: Principal, data: dict, name: str, model: type[models.Model], object_api_name: str
) -> None:
    """Replace the id under ``name`` with its record, looked up within the principal's
    hotel scope: a record out of reach and a record that does not exist look alike."""
    if data.get(name) is None:
        return
    queryset = actor.scope(object_api_name, model._default_manager.filter(pk=data[name]))
    found = queryset.first()
    if found is None:
        raise NotFound(f"No {name} with id {data[name]}.", field=name)
    data[name] = found


# --- the writers, one per object --------------------------------------------------------

GUEST_EXTRA = {
    "emails": LIST_OF_TEXT,
    "phones": LIST_OF_TEXT,
    "addresses": LIST_OF_OBJECTS,
    "external_ids": LIST_OF_OBJECTS,
    "custom": OBJECT,
}


# What crm.services.common.language_clean takes (a BCP 47-like code, any case, _ or -).
LANGUAGE_HINT = {"pattern": r"^\s*([A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*)?\s*$"}
GUEST_CREATE = frozenset({*GUEST_FIELDS, *GUEST_EXTRA})
# A guest reads and writes its e-mails and phones as lists (primary first); addresses and
# external ids are managed one by one (/api/v1/guests/{id}/addresses/...).
GUEST_UPDATE = frozenset({*GUEST_FIELDS, "custom", "emails", "phones"})


def _guest_lists(ids: list[int]) -> dict[int, dict[str, Any]]:
    """E-mails and phones of many guests in two queries, each primary first."""
    from crm.models import GuestEmail, GuestPhone
    from crm.services.common import tenant_base_currency

    # Revenue figures are kept in the group's base currency: the answer says which.
    base = tenant_base_currency()
    out: dict[int, dict[str, Any]] = {
        pk: {"emails": [], "phones": [], "revenue_currency": base} for pk in ids
    }
    for guest_id, email in GuestEmail.objects.filter(guest_id__in=ids).values_list(
        "guest_id", "email"
    ):
        out[guest_id]["emails"].append(email)
    for guest_id, number in GuestPhone.objects.filter(guest_id__in=ids).values_list(
        "guest_id", "number"
    ):
        out[guest_id]["phones"].append(number)
    return out


RELATED_LISTS: dict[str, dict[str, Any]] = {
    "guest": {
        "related_lists": _guest_lists,
        "related_keys": ("emails", "phones", "revenue_currency"),
        "related_schema": {
            "emails": {"type": "array", "items": {"type": "string"}},
            "phones": {"type": "array", "items": {"type": "string"}},
            "revenue_currency": {
                "type": "string",
                "readOnly": True,
                "description": "The currency of revenue (the group's base currency)",
            },
        },
    },
}


def _contacts_replace(actor: Principal, guest, name: str, wanted: list[str]) -> None:
    """Make a guest's e-mails (or phones) the given list, the first one primary, through
    the one-by-one services (each checks the right and records the change)."""
    from crm.services import guests as services
    from crm.services.common import email_clean, phone_clean

    if name == "emails":
        emails = [v for v in dict.fromkeys(email_clean(v, field="emails") for v in wanted) if v]
        for row in list(guest.emails.all()):
            if row.email not in emails:
                services.guest_email_remove(guest_email=row, actor=actor)
        have = set(guest.emails.values_list("email", flat=True))
        for email in emails:
            if email not in have:
                services.guest_email_add(guest=guest, email=email, actor=actor)
        if emails:
            first = guest.emails.get(email=emails[0])
            if not first.is_primary:
                services.guest_email_set_primary(guest_email=first, actor=actor)
        return
    region = guest.nationality or None
    numbers = [
        v for v in dict.fromkeys(phone_clean(v, region=region, field="phones") for v in wanted) if v
    ]
    for phone in list(guest.phones.all()):
        if phone.number not in numbers:
            services.guest_phone_remove(guest_phone=phone, actor=actor)
    have = set(guest.phones.values_list("number", flat=True))
    for number in numbers:
        if number not in have:
            services.guest_phone_add(guest=guest, number=number, actor=actor)
    if numbers:
        first_phone = guest.phones.get(number=numbers[0])
        if not first_phone.is_primary:
            services.guest_phone_set_primary(guest_phone=first_phone, actor=actor)


COMPANY_KEYS = frozenset({*COMPANY_FIELDS, "custom"})
CASE_KEYS = frozenset({*CASE_FIELDS, "custom"})
# A case starts new or open (the service refuses any other status); later moves follow
# the status flow (crm.models.cases.CASE_TRANSITIONS).
CASE_CREATE = CASE_KEYS


def _guest_create(*, actor: Principal, data: dict):
    from crm.models import Guest
    from crm.services.guests import guest_create

    data = typed(Guest, known(data, GUEST_CREATE, "guest"), GUEST_EXTRA)
    if not data.get("given_name") and not data.get("surname"):
        raise ValidationError({"surname": "A guest needs a surname or a given name."})
    data.setdefault("given_name", "")
    data.setdefault("surname", "")
    return guest_create(actor=actor, **data)


def _guest_update(*, actor: Principal, record, data: dict):
    from crm.models import Guest
    from crm.services.guests import guest_update

    shapes = {"custom": OBJECT, "emails": LIST_OF_TEXT, "phones": LIST_OF_TEXT}
    data = typed(Guest, known(data, GUEST_UPDATE, "guest"), shapes)
    if data.get("id_document_number") == record.id_document_number_masked:
        # The masked form a read gave back: the stored number stays as it is.
        del data["id_document_number"]
    for name in ("emails", "phones"):
        if name in data:
            _contacts_replace(actor, record, name, data.pop(name))
            record.refresh_from_db()
    if not data:
        return record
    return guest_update(guest=record, actor=actor, **data)


def _guest_find(*, item: dict):
    from crm.models import GuestExternalId

    source = str(item.get("external_source") or "API").strip().upper()
    row = (
        GuestExternalId.objects.filter(
            source=source, property=None, external_id=str(item["external_id"])
        )
        .select_related("guest")
        .first()
    )
    return row.guest if row else None


def _guest_prepare(*, item: dict, found) -> dict:
    data = dict(item)
    source = data.pop("external_source", None)
    key = data.pop("external_id")
    if found is None:
        data["external_ids"] = [{"source": str(source or "API"), "external_id": key}]
    else:
        # Contact lists describe the profile at creation; an update leaves them be
        # (they are changed one by one), so re-sending the same bulk is harmless.
        for name in ("emails", "phones", "addresses", "external_ids"):
            data.pop(name, None)
    return data


def _company_create(*, actor: Principal, data: dict):
    from crm.models import Company
    from crm.services.companies import company_create

    data = typed(Company, known(data, COMPANY_KEYS, "company"), {"custom": OBJECT})
    required(data, "name")
    return company_create(actor=actor, **data)


def _company_update(*, actor: Principal, record, data: dict):
    from crm.models import Company
    from crm.services.companies import company_update

    data = typed(Company, known(data, COMPANY_KEYS, "company"), {"custom": OBJECT})
    return company_update(company=record, actor=actor, **data)


def _company_find(*, item: dict):
    from crm.models import Company

    return Company.objects.filter(external_id=str(item["external_id"])).first()


def _property_create(*, actor: Principal, data: dict):
    from crm.models import Property
    from crm.services.properties import property_create

    data = typed(Property, known(data, _property_keys(), "property"), {"custom": OBJECT})
    required(data, "code", "name")
    return property_create(actor=actor, **data)


def _property_update(*, actor: Principal, record, data: dict):
    from crm.models import Property
    from crm.services.properties import property_update

    data = typed(Property, known(data, _property_keys(), "property"), {"custom": OBJECT})
    return property_update(property=record, actor=actor, **data)


def _property_find(*, item: dict):
    from crm.models import Property

    return Property.objects.filter(code=str(item["code"])).first()


RESERVATION_EXTRA = {"guests": (list, int), "custom": OBJECT}
RESERVATION_KEYS = {*RESERVATION_FIELDS, "property", "guest", "guests", "status", "custom"}
RESERVATION_REQUIRED = (
    "property",
    "guest",
    "confirmation_number",
    "arrival",
    "departure",
    "total_amount",
)


def _property_keys() -> frozenset[str]:
    from crm.models import Property
    from crm.services.properties import _translated_fields

    return frozenset({*_translated_fields(Property, PROPERTY_FIELDS), "custom"})


def _reservation_links(actor: Principal, data: dict, *, at_property=None) -> dict:
    from crm.models import Company, Guest, Property, RatePlan, RoomType

    _link(actor, data, "property", Property, "property")
    prop = data.get("property") or at_property
    for name in ("guest", "booker_guest"):
        _link(actor, data, name, Guest, "guest")
    _link(actor, data, "booker_company", Company, "company")
    for name, model in (("room_type", RoomType), ("rate_plan", RatePlan)):
        if data.get(name) is not None:
            found = model._default_manager.filter(pk=data[name], property=prop).first()
            if found is None:
                raise NotFound(f"No {name} with id {data[name]} at this hotel.", field=name)
            data[name] = found
    if data.get("guests") is not None:
        ids = list(dict.fromkeys(data["guests"]))
        found_guests = {g.pk: g for g in Guest.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found_guests]
        if missing:
            raise NotFound(f"No guest with id {missing[0]}.", field="guests")
        data["guests"] = [found_guests[i] for i in ids]
    return data


def _reservation_create(*, actor: Principal, data: dict):
    from crm.models import Reservation
    from crm.services.reservations import reservation_create

    data = typed(Reservation, known(data, RESERVATION_KEYS, "reservation"), RESERVATION_EXTRA)
    required(data, *RESERVATION_REQUIRED)
    return reservation_create(actor=actor, **_reservation_links(actor, data))


def _reservation_update(*, actor: Principal, record, data: dict):
    from crm.models import Reservation
    from crm.services.reservations import reservation_status_change, reservation_update

    data = typed(Reservation, known(data, RESERVATION_KEYS, "reservation"), RESERVATION_EXTRA)
    if "property" in data:
        raise ValidationError({"property": "A reservation stays at its hotel."})
    data = _reservation_links(actor, data, at_property=record.property)
    status = data.pop("status", None)
    for name in ("guest",):
        if name in data and data[name] is None:
            raise ValidationError({name: f"{name} cannot be empty."})
    if data:
        record = reservation_update(reservation=record, actor=actor, **data)
    if status is not None and status != record.status:
        record = reservation_status_change(reservation=record, status=status, actor=actor)
    return record


def _reservation_find(*, item: dict):
    from crm.models import Reservation

    prop = item.get("property")
    if isinstance(prop, bool) or not isinstance(prop, int):
        raise ValidationError({"property": "Give the hotel's id (a whole number)."})
    return Reservation.objects.filter(
        property_id=prop, confirmation_number=str(item["confirmation_number"])
    ).first()


def _reservation_prepare(*, item: dict, found) -> dict:
    data = dict(item)
    if found is not None:
        data.pop("property", None)
        data.pop("confirmation_number", None)
    return data


def _hotel_setup_keys(model_name: str) -> frozenset[str]:
    from crm.models import RatePlan, RoomType
    from crm.services.properties import RATE_PLAN_FIELDS, ROOM_TYPE_FIELDS, _translated_fields

    model, fields = {
        "room_type": (RoomType, ROOM_TYPE_FIELDS),
        "rate_plan": (RatePlan, RATE_PLAN_FIELDS),
    }[model_name]
    return frozenset({*_translated_fields(model, set(fields)), "custom"})


def _hotel_setup_writer(api_name: str) -> RecordWriter:
    """Room types and rate plans: a PMS sets up its hotels through the API (names per
    language as name_<language>), each within the principal's hotels."""

    def model():
        from crm.models import RatePlan, RoomType

        return RoomType if api_name == "room_type" else RatePlan

    def create(*, actor: Principal, data: dict):
        from crm.models import Property
        from crm.services import properties

        keys = _hotel_setup_keys(api_name) | {"property"}
        data = typed(model(), known(data, keys, api_name), {"custom": OBJECT})
        required(data, "property", "code", "name")
        _link(actor, data, "property", Property, "property")
        return getattr(properties, f"{api_name}_create")(actor=actor, **data)

    def update(*, actor: Principal, record, data: dict):
        from crm.services import properties

        data = typed(
            model(), known(data, _hotel_setup_keys(api_name), api_name), {"custom": OBJECT}
        )
        return getattr(properties, f"{api_name}_update")(**{api_name: record}, actor=actor, **data)

    return RecordWriter(
        create=create,
        update=update,
        extra_write_keys={"custom": OBJECT},
        create_keys=lambda: _hotel_setup_keys(api_name) | {"property"},
        update_keys=lambda: _hotel_setup_keys(api_name),
        required=("property", "code", "name"),
        schema_hints={"capacity": {"minimum": 1, "maximum": 99}} if api_name == "room_type" else {},
    )


CASE_EXTRA = {"custom": OBJECT}


def _case_links(actor: Principal, data: dict) -> dict:
    from django.contrib.auth import get_user_model

    from crm.models import Guest, Property, Reservation

    _link(actor, data, "guest", Guest, "guest")
    _link(actor, data, "reservation", Reservation, "reservation")
    _link(actor, data, "property", Property, "property")
    if data.get("owner") is not None:
        owner = get_user_model().objects.filter(pk=data["owner"], is_active=True).first()
        if owner is None:
            raise NotFound(f"No active user with id {data['owner']}.", field="owner")
        data["owner"] = owner
    return data


def _case_create(*, actor: Principal, data: dict):
    from crm.models import Case
    from crm.services.cases import case_create

    data = typed(Case, known(data, CASE_CREATE, "case"), CASE_EXTRA)
    required(data, "subject")
    return case_create(actor=actor, **_case_links(actor, data))


def _case_update(*, actor: Principal, record, data: dict):
    from crm.models import Case
    from crm.services.cases import case_update

    data = typed(Case, known(data, CASE_KEYS, "case"), CASE_EXTRA)
    return case_update(case=record, actor=actor, **_case_links(actor, data))


def _guests_upsert(*, actor: Principal, items: list) -> list[dict]:
    from crm.services.upsert import guests_upsert

    return guests_upsert(actor=actor, items=items)


def _companies_upsert(*, actor: Principal, items: list) -> list[dict]:
    from crm.services.upsert import companies_upsert

    return companies_upsert(actor=actor, items=items)


def _writer(
    create: Callable | None,
    update: Callable | None,
    extra: Mapping,
    bulk_key: str | None = None,
    bulk_find: Callable | None = None,
    bulk_prepare: Callable | None = None,
    bulk_upsert: Callable | None = None,
    *,
    create_keys: Callable[[], frozenset[str]] = frozenset,
    update_keys: Callable[[], frozenset[str]] = frozenset,
    required: tuple[str, ...] = (),
    required_one_of: tuple[str, ...] = (),
    schema_hints: Mapping[str, Mapping[str, Any]] | None = None,
    create_schema_hints: Mapping[str, Mapping[str, Any]] | None = None,
) -> RecordWriter:
    return RecordWriter(
        create_keys=create_keys,
        update_keys=update_keys,
        required=required,
        required_one_of=required_one_of,
        schema_hints=schema_hints or {},
        create_schema_hints=create_schema_hints or {},
        bulk_upsert=bulk_upsert,
        create=create,
        update=update,
        bulk_key=bulk_key,
        bulk_find=bulk_find,
        bulk_prepare=bulk_prepare or (lambda *, item, found: dict(item)),
        extra_write_keys=extra,
    )


WRITERS: dict[str, RecordWriter] = {
    "guest": _writer(
        _guest_create,
        _guest_update,
        {**GUEST_EXTRA, "external_source": (str, None)},
        "external_id",
        _guest_find,
        _guest_prepare,
        _guests_upsert,
        create_keys=lambda: GUEST_CREATE,
        update_keys=lambda: GUEST_UPDATE,
        required_one_of=("surname", "given_name"),
        schema_hints={"language": LANGUAGE_HINT, "vip_level": {"minimum": 0, "maximum": 9}},
    ),
    "company": _writer(
        _company_create,
        _company_update,
        {"custom": OBJECT},
        "external_id",
        _company_find,
        None,
        _companies_upsert,
        create_keys=lambda: COMPANY_KEYS,
        update_keys=lambda: COMPANY_KEYS,
        required=("name",),
    ),
    "property": _writer(
        _property_create,
        _property_update,
        {"custom": OBJECT},
        "code",
        _property_find,
        create_keys=_property_keys,
        update_keys=_property_keys,
        required=("code", "name", "country"),
        schema_hints={"star_rating": {"minimum": 1, "maximum": 7}},
    ),
    "reservation": _writer(
        _reservation_create,
        _reservation_update,
        RESERVATION_EXTRA,
        "confirmation_number",
        _reservation_find,
        _reservation_prepare,
        create_keys=lambda: frozenset(RESERVATION_KEYS),
        update_keys=lambda: frozenset(RESERVATION_KEYS - {"property"}),
        required=RESERVATION_REQUIRED,
    ),
    "case": _writer(
        _case_create,
        _case_update,
        CASE_EXTRA,
        create_keys=lambda: CASE_CREATE,
        update_keys=lambda: CASE_KEYS,
        required=("subject",),
        create_schema_hints={"status": {"enum": ["new", "open"]}},
    ),
    "room_type": _hotel_setup_writer("room_type"),
    "rate_plan": _hotel_setup_writer("rate_plan"),
}
