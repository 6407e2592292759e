"""Programme settings and tiers: administration (the one administrator rule), each
change in the audit trail. Names are translated (``translations={"zh-hans": {...}}``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.loyalty.models import Programme, Tier
from crm.loyalty.services.ledger import programme_current
from crm.models import RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict

PROGRAMME_FIELDS = ("name", "points_per_unit", "expiry_months", "qualification_months")
TIER_FIELDS = (
    "key",
    "name",
    "rank",
    "min_nights",
    "min_stays",
    "min_revenue",
    "earn_multiplier",
    "benefits",
    "flags",
)
_LANGS = {code for code, _ in settings.LANGUAGES}


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: f"{name} must be a number."}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({name: f"{name} must be zero or more."})
    return number


def _translations(obj: Any, translations: dict | None, names: tuple[str, ...]) -> None:
    for lang, values in (translations or {}).items():
        if lang not in _LANGS or not isinstance(values, dict):
            raise ValidationError({"translations": f"{lang} is not a supported language."})
        for name, text in values.items():
            if name not in names or not isinstance(text, str):
                raise ValidationError({"translations": f"{name} cannot be translated here."})
            setattr(obj, f"{name}_{lang.replace('-', '_')}", text)


@transaction.atomic
def programme_update(
    *, actor: Principal, translations: dict | None = None, **fields: Any
) -> Programme:
    actor.require_admin("change the loyalty programme")
    unknown = sorted(set(fields) - set(PROGRAMME_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a programme setting." for n in unknown})
    programme = Programme.objects.select_for_update().get(pk=programme_current().pk)
    old = {n: getattr(programme, n) for n in fields}
    if "points_per_unit" in fields:
        fields["points_per_unit"] = _decimal(fields["points_per_unit"], "points_per_unit")
    for name, value in fields.items():
        setattr(programme, name, value)
    if "name" in fields:
        programme.name_en = programme.name_en or fields["name"]  # type: ignore[attr-defined]
    _translations(programme, translations, ("name",))
    programme.full_clean()
    programme.save()
    changes_record(
        object_api_name="loyalty_programme",
        record_id=programme.pk,
        old=old,
        new={n: getattr(programme, n) for n in fields},
        user_id=actor.user_id,
    )
    return programme


def _tier_clean(tier: Tier) -> None:
    tier.min_revenue = _decimal(tier.min_revenue, "min_revenue")
    tier.earn_multiplier = _decimal(tier.earn_multiplier, "earn_multiplier")
    if tier.earn_multiplier <= 0:
        raise ValidationError({"earn_multiplier": "The multiplier must be above zero."})
    if not isinstance(tier.flags, list) or any(not isinstance(f, str) for f in tier.flags):
        raise ValidationError({"flags": "Flags are a list of words."})
    tier.full_clean(validate_unique=False)
    clash = Tier.objects.exclude(pk=tier.pk)
    if clash.filter(key=tier.key).exists():
        raise Conflict(f"A tier {tier.key} exists already.", code="taken", field="key")
    if clash.filter(rank=tier.rank).exists():
        raise Conflict(f"Another tier has rank {tier.rank}.", code="taken", field="rank")


@transaction.atomic
def tier_create(*, actor: Principal, translations: dict | None = None, **fields: Any) -> Tier:
    actor.require_admin("change the loyalty programme")
    unknown = sorted(set(fields) - set(TIER_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a tier setting." for n in unknown})
    tier = Tier(**fields)
    tier.name_en = tier.name_en or tier.name  # type: ignore[attr-defined]
    _translations(tier, translations, ("name", "benefits"))
    _tier_clean(tier)
    tier.save()
    changes_record(
        object_api_name="loyalty_tier",
        record_id=tier.pk,
        old={},
        new={n: getattr(tier, n) for n in TIER_FIELDS},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return tier


@transaction.atomic
def tier_update(
    *, tier: Tier, actor: Principal, translations: dict | None = None, **fields: Any
) -> Tier:
    """Change thresholds, multiplier, names. Members move at the next review (or their
    next stay, for an upgrade): changing a tier never moves anyone by itself."""
    actor.require_admin("change the loyalty programme")
    unknown = sorted(set(fields) - set(TIER_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a tier setting." for n in unknown})
    tier = Tier.objects.select_for_update().get(pk=tier.pk)
    old = {n: getattr(tier, n) for n in fields}
    for name, value in fields.items():
        setattr(tier, name, value)
    _translations(tier, translations, ("name", "benefits"))
    _tier_clean(tier)
    tier.save()
    changes_record(
        object_api_name="loyalty_tier",
        record_id=tier.pk,
        old=old,
        new={n: getattr(tier, n) for n in fields},
        user_id=actor.user_id,
    )
    return tier
