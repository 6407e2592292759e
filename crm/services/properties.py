"""Writes of properties, room types, rate plans and exchange rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import ExchangeRate, Property, RatePlan, RecordChange, RoomType
from crm.services.access import written
from crm.services.audit import changes_record, record_values
from crm.services.common import country_clean, currency_clean, money_round
from crm.services.custom import custom_clean
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.entitlements import tenant_limit_check
from tenants.errors import Conflict
from tenants.validators import validate_timezone

PROPERTY_FIELDS = frozenset(
    {
        "code",
        "name",
        "description",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
        "timezone",
        "currency",
        "star_rating",
        "room_count",
        "opened_on",
    }
)


def _translated_fields(model, base: set[str] | frozenset[str]) -> set[str]:
    """Accept name_en, name_zh_hans... next to the untranslated names."""
    from modeltranslation.settings import AVAILABLE_LANGUAGES
    from modeltranslation.translator import NotRegistered, translator
    from modeltranslation.utils import build_localized_fieldname

    try:
        options = translator.get_options_for_model(model)
    except NotRegistered:
        return set(base)
    extra = {
        build_localized_fieldname(name, lang)
        for name in options.get_field_names()
        for lang in AVAILABLE_LANGUAGES
    }
    return set(base) | extra


def _reject_unknown(fields: dict, allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError({name: f"{name} is not a field you can set." for name in unknown})


def _property_clean(prop: Property) -> None:
    prop.code = (prop.code or "").strip().upper()
    prop.country = country_clean(prop.country)
    prop.currency = currency_clean(prop.currency)
    try:
        prop.timezone = validate_timezone(prop.timezone)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from exc
    if not prop.country:
        raise ValidationError({"country": "A property needs its country."})
    if prop.star_rating is not None and not 0 < int(prop.star_rating) <= 7:
        raise ValidationError({"star_rating": "Star rating runs from 1 to 7."})
    prop.full_clean(exclude=["custom"])


@transaction.atomic
def property_create(
    *, code: str, name: str, actor: Principal, custom: dict | None = None, **fields
):
    actor.require("property", "create")
    actor.require_editable("property", written({"code", "name", *fields}, custom))
    allowed = _translated_fields(Property, PROPERTY_FIELDS)
    _reject_unknown(fields, allowed)
    tenant_limit_check(
        tenant=current_tenant(), key="properties", count=Property.objects.count(), label="hotels"
    )
    prop = Property(code=code, name=name, **fields)
    prop.custom = custom_clean(object_api_name="property", values=custom or {})
    _property_clean(prop)
    prop.save()
    changes_record(
        object_api_name="property",
        record_id=prop.pk,
        old={},
        new=record_values(prop, ["code", "name", *fields]),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return prop


@transaction.atomic
def property_update(*, property: Property, actor: Principal, custom: dict | None = None, **fields):
    actor.require("property", "edit")
    actor.require_editable("property", written(fields, custom))
    actor.require_property(property.pk)
    allowed = _translated_fields(Property, PROPERTY_FIELDS)
    _reject_unknown(fields, allowed)
    old = record_values(property, [*fields, "custom"])
    for name, value in fields.items():
        setattr(property, name, value)
    if custom is not None:
        property.custom = custom_clean(
            object_api_name="property",
            values=custom,
            existing=property.custom,
            partial=True,
            record_id=property.pk,
        )
    _property_clean(property)
    property.save()
    changes_record(
        object_api_name="property",
        record_id=property.pk,
        old=old,
        new=record_values(property, [*fields, "custom"]),
        user_id=actor.user_id,
    )
    return property


def _hotel_setup_save(record, object_api_name: str) -> None:
    """Validate and save a room type or rate plan: a code taken at the hotel is a 409."""
    capacity = getattr(record, "capacity", 1)
    if isinstance(capacity, int) and not 1 <= capacity <= 99:
        raise ValidationError({"capacity": "A room sleeps 1 to 99 guests."})
    record.full_clean(exclude=["custom"], validate_constraints=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise Conflict(
            f"Hotel {record.property_id} already has a {object_api_name} {record.code}.",
            field="code",
        ) from exc


ROOM_TYPE_FIELDS = ("code", "name", "capacity", "base_rate", "currency")
RATE_PLAN_FIELDS = ("code", "name")


@transaction.atomic
def room_type_create(
    *,
    property: Property,
    code: str,
    name: str,
    capacity: int = 2,
    base_rate: Decimal | None = None,
    currency: str = "",
    custom: dict | None = None,
    actor: Principal,
    **translations,
) -> RoomType:
    actor.require("room_type", "create")
    actor.require_property(property.pk)
    actor.require_editable("room_type", written({"code", "name", *translations}, custom))
    _reject_unknown(translations, _translated_fields(RoomType, set()))
    currency = currency_clean(currency or property.currency)
    room_type = RoomType(
        property=property,
        code=code.strip().upper(),
        name=name,
        capacity=capacity,
        base_rate=money_round(base_rate, currency) if base_rate is not None else None,
        currency=currency,
        **translations,
    )
    room_type.custom = custom_clean(object_api_name="room_type", values=custom or {})
    _hotel_setup_save(room_type, "room type")
    changes_record(
        object_api_name="room_type",
        record_id=room_type.pk,
        old={},
        new=record_values(room_type, ["code", "name", "capacity", "base_rate", "currency"]),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return room_type


@transaction.atomic
def rate_plan_create(
    *,
    property: Property,
    code: str,
    name: str,
    custom: dict | None = None,
    actor: Principal,
    **translations,
) -> RatePlan:
    actor.require("rate_plan", "create")
    actor.require_property(property.pk)
    actor.require_editable("rate_plan", written({"code", "name", *translations}, custom))
    _reject_unknown(translations, _translated_fields(RatePlan, set()))
    plan = RatePlan(property=property, code=code.strip().upper(), name=name, **translations)
    plan.custom = custom_clean(object_api_name="rate_plan", values=custom or {})
    _hotel_setup_save(plan, "rate plan")
    changes_record(
        object_api_name="rate_plan",
        record_id=plan.pk,
        old={},
        new=record_values(plan, ["code", "name"]),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return plan


def _hotel_setup_update(record, object_api_name: str, allowed, actor, custom, fields):
    actor.require(object_api_name, "edit")
    actor.require_editable(object_api_name, written(fields, custom))
    actor.require_property(record.property_id)
    _reject_unknown(fields, _translated_fields(type(record), set(allowed)))
    old = record_values(record, [*fields, "custom"])
    if "code" in fields:
        fields["code"] = str(fields["code"] or "").strip().upper()
    if "currency" in fields:
        fields["currency"] = currency_clean(fields["currency"] or record.property.currency)
    for name, value in fields.items():
        setattr(record, name, value)
    if getattr(record, "base_rate", None) is not None:
        record.base_rate = money_round(record.base_rate, record.currency)
    if custom is not None:
        record.custom = custom_clean(
            object_api_name=object_api_name,
            values=custom,
            existing=record.custom,
            partial=True,
            record_id=record.pk,
        )
    _hotel_setup_save(record, object_api_name.replace("_", " "))
    changes_record(
        object_api_name=object_api_name,
        record_id=record.pk,
        old=old,
        new=record_values(record, [*fields, "custom"]),
        user_id=actor.user_id,
    )
    return record


@transaction.atomic
def room_type_update(
    *, room_type: RoomType, actor: Principal, custom: dict | None = None, **fields
) -> RoomType:
    """A room type's code, names, capacity and rack rate; it stays at its hotel."""
    return _hotel_setup_update(room_type, "room_type", ROOM_TYPE_FIELDS, actor, custom, fields)


@transaction.atomic
def rate_plan_update(
    *, rate_plan: RatePlan, actor: Principal, custom: dict | None = None, **fields
) -> RatePlan:
    return _hotel_setup_update(rate_plan, "rate_plan", RATE_PLAN_FIELDS, actor, custom, fields)


@transaction.atomic
def exchange_rate_set(
    *, currency: str, base_currency: str, rate: Decimal, valid_from: date, actor: Principal
) -> ExchangeRate:
    """Units of ``base_currency`` per unit of ``currency`` from ``valid_from`` on."""
    actor.require_admin("set exchange rates")
    currency = currency_clean(currency)
    base_currency = currency_clean(base_currency, field="base_currency")
    if Decimal(rate) <= 0:
        raise ValidationError({"rate": "An exchange rate must be greater than zero."})
    obj, _ = ExchangeRate.objects.update_or_create(
        currency=currency,
        base_currency=base_currency,
        valid_from=valid_from,
        defaults={"rate": Decimal(rate)},
    )
    return obj
