"""Money: an amount (Decimal) and an ISO 4217 code, rounded to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision


def currency_digits(currency: str) -> int:
    """Minor-unit digits per ISO 4217 (CLDR): JPY 0, EUR 2, KWD 3."""
    return get_currency_precision(currency.upper())


def money_round(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (a price of 0.005 EUR becomes 0.01)."""
    digits = currency_digits(currency)
    return Decimal(amount).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
