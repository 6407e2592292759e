"""The demo data of ``make run`` uses the CRM models consistently."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Sum
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.models import Guest, GuestEmail, Property, Reservation, ReservationGuest
from crm.services.demo import demo_data_generate
from crm.services.guests import guest_statistics_refresh

pytestmark = pytest.mark.django_db


def test_demo_data_is_consistent_and_idempotent(tenant_a):
    with tenant_context(tenant_a):
        stats = demo_data_generate(guests=60, today=date(2026, 6, 1))
        assert stats["created"] is True and stats["guests"] == 60
        assert Property.objects.count() == 2
        assert Reservation.objects.count() == stats["reservations"] > 0
        assert ReservationGuest.objects.count() == stats["reservations"]
        assert GuestEmail.objects.filter(is_primary=True).count() == 60
        with translation.override("zh-hans"):
            assert Property.objects.get(code="HBRHKG").name == "香港港湾酒店"
        stays = Reservation.objects.filter(status__in=["in_house", "checked_out"]).count()
        assert Guest.objects.aggregate(s=Sum("stays"))["s"] == stays
        # The maintained figures are what a recomputation gives.
        before = list(Guest.objects.order_by("pk").values_list("stays", "nights", "revenue"))
        guest_statistics_refresh(guest_ids=Guest.objects.values_list("pk", flat=True))
        assert (
            list(Guest.objects.order_by("pk").values_list("stays", "nights", "revenue")) == before
        )
        again = demo_data_generate(guests=60)
        assert again["created"] is False and Guest.objects.count() == 60
