"""Offers and promo codes: validity windows, hotels and rate plans, discounts in the
booking's currency, single-use and capped shared codes, idempotent redemption, and a cap
that holds when 30 callers race for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.marketing.models import CodeRedemption, Offer, PromoCode
from crm.marketing.services.offers import (
    CodeRefused,
    code_check,
    code_create_shared,
    code_redeem,
    codes_generate,
    offer_create,
)
from crm.models import RecordChange
from tenants.access.principal import Principal
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _offer(**fields) -> Offer:
    values = {"key": "spring", "name": "Spring", "discount_kind": "percent"}
    values["discount_value"] = Decimal("15")
    return offer_create(actor=SYSTEM, **{**values, **fields})


def test_percent_discount_is_rounded_to_the_currency_minor_unit(marketing):
    code = code_create_shared(offer=_offer(), code="spring 26", max_uses=None, actor=SYSTEM)
    assert code.code == "SPRING26"
    quote = code_check(code="spring26", amount=Decimal("333.33"), currency="EUR", actor=SYSTEM)
    assert (quote.discount, quote.currency) == (Decimal("50.00"), "EUR")
    yen = code_check(code="SPRING26", amount=Decimal("33333"), currency="JPY", actor=SYSTEM)
    assert (yen.discount, yen.currency) == (Decimal("5000"), "JPY")


def test_amount_discount_needs_its_currency_and_never_exceeds_the_price(marketing):
    with pytest.raises(ValidationError) as missing:
        _offer(key="flat", discount_kind="amount", discount_value=Decimal("20"))
    assert "currency" in missing.value.message_dict
    offer = _offer(key="flat", discount_kind="amount", discount_value=Decimal("20"), currency="eur")
    code_create_shared(offer=offer, code="FLAT20", max_uses=None, actor=SYSTEM)
    assert code_check(code="FLAT20", amount=Decimal("12.50"), actor=SYSTEM).discount == Decimal(
        "12.50"
    )
    with pytest.raises(CodeRefused) as wrong:
        code_check(code="FLAT20", amount=Decimal("100"), currency="JPY", actor=SYSTEM)
    assert wrong.value.code == "wrong_currency"


def test_a_flash_sale_applies_only_inside_its_window_hotels_and_rate_plans(marketing):
    now = timezone.now()
    offer = _offer(
        key="flash",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        property_ids=[7],
        rate_plan_ids=[70, 71],
    )
    code_create_shared(offer=offer, code="FLASH", max_uses=None, actor=SYSTEM)
    inside = now + timedelta(hours=2)

    def refusal(**kwargs) -> str:
        with pytest.raises(CodeRefused) as refused:
            code_check(code="FLASH", actor=SYSTEM, **kwargs)
        return refused.value.code

    assert refusal(property_id=7, rate_plan_id=70, at=now) == "not_started"
    assert refusal(property_id=7, rate_plan_id=70, at=now + timedelta(hours=3)) == "expired"
    assert refusal(property_id=8, rate_plan_id=70, at=inside) == "wrong_hotel"
    assert refusal(property_id=7, rate_plan_id=72, at=inside) == "wrong_rate_plan"
    assert code_check(code="FLASH", property_id=7, rate_plan_id=71, at=inside, actor=SYSTEM)


def test_bulk_codes_are_unique_and_single_use(marketing):
    offer = _offer()
    codes = codes_generate(offer=offer, count=200, prefix="sp", length=8, actor=SYSTEM)
    assert len({c.code for c in codes}) == 200
    assert all(c.code.startswith("SP") and len(c.code) == 10 for c in codes)
    assert all(c.kind == "single" and c.max_uses == 1 for c in codes)
    first = codes[0].code
    redemption, created = code_redeem(code=first, reference="BK-1", actor=SYSTEM)
    assert created and redemption.code.code == first
    with pytest.raises(CodeRefused) as used:
        code_redeem(code=first, reference="BK-2", actor=SYSTEM)
    assert used.value.code == "used_up"
    assert RecordChange.objects.filter(object_api_name="offer", record_id=str(offer.pk)).exists()


def test_redeeming_again_with_the_same_reference_counts_once(marketing):
    offer = _offer()
    code_create_shared(offer=offer, code="TWICE", max_uses=5, actor=SYSTEM)
    first, created = code_redeem(
        code="TWICE", reference="BK-9", amount=Decimal("200"), currency="EUR", actor=SYSTEM
    )
    again, created_again = code_redeem(code="twice", reference="BK-9", actor=SYSTEM)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.discount == Decimal("30.00")
    assert PromoCode.objects.get(code="TWICE").uses == 1


def test_the_desk_may_redeem_sales_may_not_and_a_module_off_closes_the_door(marketing, make_user):
    from metadata.services.modules import module_set_enabled
    from tenants.access.errors import AccessDenied

    code_create_shared(offer=_offer(), code="GUARDED", max_uses=None, actor=SYSTEM)
    desk = Principal.of(make_user("front_office"))
    sales = Principal.of(make_user("sales"))
    assert code_redeem(code="GUARDED", reference="D-1", actor=desk)[1] is True
    with pytest.raises(AccessDenied):
        code_check(code="GUARDED", actor=sales)
    with pytest.raises(AccessDenied):
        offer_create(key="x", name="x", discount_kind="percent", discount_value=1, actor=desk)
    module_set_enabled(key="marketing", enabled=False, actor=SYSTEM)
    with pytest.raises(Exception) as closed:
        code_check(code="GUARDED", actor=Principal.of(make_user("front_office")))
    assert getattr(closed.value, "code", "") == "module_disabled"


def test_thirty_callers_racing_for_a_cap_of_ten_succeed_exactly_ten_times(tenant_a):
    """Each thread has its own database connection and transaction, so the rows are
    committed for real (and removed at the end)."""
    threads = 30
    barrier = threading.Barrier(threads)
    actor = Principal.system("race")

    def setup() -> int:
        try:
            with tenant_context(tenant_a):
                offer = offer_create(
                    key="race-offer",
                    name="Race",
                    discount_kind="percent",
                    discount_value=Decimal("10"),
                    actor=actor,
                )
                code_create_shared(offer=offer, code="RACE10", max_uses=10, actor=actor)
                return offer.pk
        finally:
            connection.close()

    def redeem(n: int) -> str:
        try:
            with tenant_context(tenant_a):
                barrier.wait(timeout=30)
                try:
                    code_redeem(code="RACE10", reference=f"BK-{n}", actor=actor)
                except CodeRefused as exc:
                    return exc.code
                return "redeemed"
        finally:
            connection.close()

    def read() -> tuple[int, int]:
        try:
            with tenant_context(tenant_a):
                code = PromoCode.objects.get(code="RACE10")
                return code.uses, CodeRedemption.objects.filter(code=code).count()
        finally:
            connection.close()

    def cleanup(offer_id: int) -> None:
        try:
            with tenant_context(tenant_a):
                CodeRedemption.objects.filter(code__offer_id=offer_id).delete()
                Offer.objects.filter(pk=offer_id).delete()
                RecordChange.objects.filter(
                    object_api_name="offer", record_id=str(offer_id)
                ).delete()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        offer_id = pool.submit(setup).result()
    try:
        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(redeem, range(threads)))
        assert outcomes.count("redeemed") == 10, outcomes
        assert outcomes.count("used_up") == 20, outcomes
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(read).result() == (10, 10)
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(cleanup, offer_id).result()
