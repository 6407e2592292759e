"""The guest profile shows the membership (tier in the reader's language, balance,
number) to readers of loyalty members while the module is on, and nothing otherwise."""

from __future__ import annotations

import pytest

from crm.loyalty.services.ledger import points_adjust
from metadata.services.modules import module_set_enabled
from tests.access.conftest import client_for
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def _profile(client, member, **headers) -> str:
    response = client.get(f"/guests/{member.guest_id}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_shows_tier_balance_and_number(member, programme):
    points_adjust(member=member, points=1234, reason="welcome", actor=SYSTEM)
    admin = tenant_client(programme["tenant"])

    page = _profile(admin, member)

    assert f'data-loyalty="{member.number}"' in page
    assert '<span class="figure small" data-field="loyalty.tier">Silver</span>' in page
    assert 'data-field="loyalty.balance">1,234</span>' in page
    chinese = _profile(admin, member, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert 'data-field="loyalty.tier">银卡</span>' in chinese


def test_no_panel_without_the_right_or_with_the_module_off(member, programme, make_user):
    sales = client_for(make_user("sales", "front_office"), programme["tenant"])
    assert "data-loyalty" in _profile(sales, member)  # front office reads members
    reader_of_guests_only = client_for(make_user("sales"), programme["tenant"])
    assert "data-loyalty" not in _profile(reader_of_guests_only, member)

    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)

    assert "data-loyalty" not in _profile(tenant_client(programme["tenant"]), member)
