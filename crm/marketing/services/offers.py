"""Offers and their promo codes: create, generate codes in bulk, validate, redeem.

Redeeming is safe under concurrency without a lock held across the request: the use is
counted by one conditional UPDATE (``uses = uses + 1 WHERE uses < max_uses``), so of 30
callers racing for a cap of 10, exactly 10 UPDATEs match a row. It is idempotent: the
caller's reference (the booking's reference or its Idempotency-Key) is unique per code,
and a repeated call answers with the first redemption without counting again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.marketing.models import CodeRedemption, Offer, PromoCode
from crm.models import RecordChange
from crm.services.audit import changes_record
from crm.services.common import money_round, tenant_base_currency
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict, NotFound

# No 0/O, 1/I/L: codes are read out over the phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_BULK = 50_000
OFFER_FIELDS = (
    "key",
    "name",
    "description",
    "starts_at",
    "ends_at",
    "property_ids",
    "rate_plan_ids",
    "discount_kind",
    "discount_value",
    "currency",
    "active",
)


class CodeRefused(ApplicationError):
    """The code exists but cannot be used for this booking (the code says why)."""

    status_code = 409
    default_code = "code_refused"


def _clean(offer: Offer) -> None:
    errors: dict[str, str] = {}
    if offer.discount_kind == Offer.DiscountKind.PERCENT:
        if not Decimal(0) < offer.discount_value <= Decimal(100):
            errors["discount_value"] = "A percentage is more than 0 and at most 100."
        if offer.currency:
            errors["currency"] = "A percentage discount has no currency."
    elif offer.discount_kind == Offer.DiscountKind.AMOUNT:
        if offer.discount_value <= 0:
            errors["discount_value"] = "The amount off is more than 0."
        from tenants.validators import validate_currency

        try:
            validate_currency(offer.currency or "")
        except ValidationError:
            errors["currency"] = "An amount off needs its ISO 4217 currency (EUR, JPY...)."
    else:
        errors["discount_kind"] = "The discount is percent or amount."
    if offer.starts_at and offer.ends_at and offer.ends_at <= offer.starts_at:
        errors["ends_at"] = "The offer ends after it starts."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def offer_create(*, actor: Principal, **fields: Any) -> Offer:
    actor.require("offer", "create")
    unknown = sorted(set(fields) - set(OFFER_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a setting of an offer." for n in unknown})
    offer = Offer(**{"property_ids": [], "rate_plan_ids": [], **fields})
    offer.currency = (offer.currency or "").upper()
    _clean(offer)
    if Offer.objects.filter(key=offer.key).exists():
        raise Conflict(f"An offer {offer.key} exists already.", code="taken", field="key")
    offer.save()
    changes_record(
        object_api_name="offer",
        record_id=offer.pk,
        old={},
        new={n: getattr(offer, n) for n in OFFER_FIELDS},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return offer


def _random_code(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def code_normalise(raw: str) -> str:
    return "".join(str(raw).split()).upper()


@transaction.atomic
def codes_generate(
    *,
    offer: Offer,
    count: int,
    actor: Principal,
    prefix: str = "",
    length: int = 10,
    campaign_id: int | None = None,
) -> list[PromoCode]:
    """``count`` single-use codes, unique across the tenant (a collision with an existing
    code is drawn again; at 31^10 it practically never happens)."""
    actor.require("offer", "edit")
    if not 1 <= count <= MAX_BULK:
        raise ValidationError({"count": f"Generate from 1 to {MAX_BULK} codes at a time."})
    if not 6 <= length <= 20:
        raise ValidationError({"length": "Codes are 6 to 20 characters long."})
    prefix = code_normalise(prefix)
    if len(prefix) > 20 or not prefix.isalnum() and prefix:
        raise ValidationError({"prefix": "A prefix is at most 20 letters or digits."})
    wanted: set[str] = set()
    while len(wanted) < count:
        batch = {_random_code(prefix, length) for _ in range(count - len(wanted))}
        taken = set(PromoCode.objects.filter(code__in=batch).values_list("code", flat=True))
        wanted |= batch - taken
    codes = PromoCode.objects.bulk_create(
        [
            PromoCode(
                offer=offer,
                code=c,
                kind=PromoCode.Kind.SINGLE,
                max_uses=1,
                campaign_id=campaign_id,
            )
            for c in sorted(wanted)
        ]
    )
    changes_record(
        object_api_name="offer",
        record_id=offer.pk,
        old={},
        new={"codes_generated": count, "prefix": prefix},
        user_id=actor.user_id,
    )
    return codes


@transaction.atomic
def code_create_shared(
    *,
    offer: Offer,
    code: str,
    max_uses: int | None,
    actor: Principal,
    campaign_id: int | None = None,
) -> PromoCode:
    actor.require("offer", "edit")
    normalised = code_normalise(code)
    if not 3 <= len(normalised) <= 40 or not normalised.replace("-", "").isalnum():
        raise ValidationError({"code": "A code is 3 to 40 letters, digits or dashes."})
    if max_uses is not None and max_uses < 1:
        raise ValidationError({"max_uses": "The cap is at least 1 (or none)."})
    if PromoCode.objects.filter(code=normalised).exists():
        raise Conflict(f"The code {normalised} exists already.", code="taken", field="code")
    promo = PromoCode.objects.create(
        offer=offer,
        code=normalised,
        kind=PromoCode.Kind.SHARED,
        max_uses=max_uses,
        campaign_id=campaign_id,
    )
    changes_record(
        object_api_name="offer",
        record_id=offer.pk,
        old={},
        new={"shared_code": normalised, "max_uses": max_uses},
        user_id=actor.user_id,
    )
    return promo


@dataclass(frozen=True)
class Quote:
    code: PromoCode
    discount: Decimal
    currency: str


def code_check(
    *,
    code: str,
    actor: Principal,
    property_id: int | None = None,
    rate_plan_id: int | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    at: datetime | None = None,
) -> Quote:
    """Whether the code applies to this booking, and the discount it gives on ``amount``
    (rounded to the currency's minor unit). Raises NotFound for an unknown code and
    CodeRefused (with the reason as its code) for one that does not apply."""
    actor.require("offer", "view")
    found = PromoCode.objects.select_related("offer").filter(code=code_normalise(code)).first()
    if found is None:
        raise NotFound("There is no such promo code.", field="code")
    offer = found.offer
    now = at or timezone.now()
    if not offer.active:
        raise CodeRefused("The offer is not active.", code="offer_inactive", field="code")
    if offer.starts_at and now < offer.starts_at:
        raise CodeRefused("The offer has not started yet.", code="not_started", field="code")
    if offer.ends_at and now >= offer.ends_at:
        raise CodeRefused("The offer has ended.", code="expired", field="code")
    if found.max_uses is not None and found.uses >= found.max_uses:
        raise CodeRefused("The code has been used up.", code="used_up", field="code")
    if offer.property_ids and property_id not in offer.property_ids:
        raise CodeRefused(
            "The offer does not apply at this hotel.", code="wrong_hotel", field="property_id"
        )
    if offer.rate_plan_ids and rate_plan_id not in offer.rate_plan_ids:
        raise CodeRefused(
            "The offer does not apply to this rate plan.",
            code="wrong_rate_plan",
            field="rate_plan_id",
        )
    currency = (currency or "").upper()
    base = tenant_base_currency()
    discount = Decimal(0)
    if amount is not None:
        if offer.discount_kind == Offer.DiscountKind.PERCENT:
            discount = money_round(amount * offer.discount_value / Decimal(100), currency or base)
        else:
            if currency and currency != offer.currency:
                raise CodeRefused(
                    f"The discount is in {offer.currency}; the booking is in {currency}.",
                    code="wrong_currency",
                    field="currency",
                )
            discount = min(offer.discount_value, amount)
            currency = offer.currency
    return Quote(code=found, discount=discount, currency=currency or offer.currency)


def code_redeem(
    *,
    code: str,
    reference: str,
    actor: Principal,
    property_id: int | None = None,
    rate_plan_id: int | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    guest_id: int | None = None,
    reservation_id: int | None = None,
) -> tuple[CodeRedemption, bool]:
    """Use the code once for ``reference``. Returns (redemption, created): a call with a
    reference already redeemed on this code returns the first redemption and False."""
    actor.require("offer", "edit")
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise ValidationError({"reference": "Give the booking's reference (at most 100)."})
    normalised = code_normalise(code)
    earlier = CodeRedemption.objects.filter(code__code=normalised, reference=reference).first()
    if earlier is not None:
        return earlier, False
    quote = code_check(
        code=normalised,
        actor=actor,
        property_id=property_id,
        rate_plan_id=rate_plan_id,
        amount=amount,
        currency=currency,
    )
    try:
        with transaction.atomic():
            counted = (
                PromoCode.objects.filter(pk=quote.code.pk)
                .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
                .update(uses=F("uses") + 1)
            )
            if not counted:
                raise CodeRefused("The code has been used up.", code="used_up", field="code")
            redemption = CodeRedemption.objects.create(
                code=quote.code,
                reference=reference,
                guest_id=guest_id,
                reservation_id=reservation_id,
                property_id=property_id,
                amount=amount if amount is not None else Decimal(0),
                currency=quote.currency if amount is not None else "",
                discount=quote.discount,
            )
            from crm.marketing.events import publish

            publish(
                "promo_code.redeemed",
                "offer",
                {
                    "object": "promo_code",
                    "code": quote.code.code,
                    "offer": quote.code.offer.key,
                    "reference": reference,
                    "discount": str(quote.discount),
                    "currency": quote.currency,
                },
            )
    except IntegrityError:
        # The same reference raced in from another request: answer with its redemption
        # (our UPDATE rolled back with the failed INSERT).
        earlier = CodeRedemption.objects.filter(code=quote.code, reference=reference).first()
        if earlier is None:
            raise
        return earlier, False
    return redemption, True
