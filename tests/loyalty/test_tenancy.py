"""One hotel group's programme never shows in another's: separate schemas, separate
member numbers, and the nightly fan-out reaches only groups with the module on."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from crm.loyalty import tasks
from metadata.services.modules import module_set_enabled
from tests.conftest import tenant_client
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_members_of_one_group_are_invisible_to_another(programme, member, tenant_b):
    with tenant_context(tenant_b):
        module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    bravo = tenant_client(tenant_b)

    assert bravo.get("/api/v1/loyalty/members/").json()["results"] == []
    assert bravo.get(f"/api/v1/loyalty/members/{member.pk}/").status_code == 404
    assert bravo.get("/api/v1/loyalty/ledger/").json()["results"] == []
    # The member is there, in its own group.
    alpha = tenant_client(programme["tenant"])
    assert alpha.get(f"/api/v1/loyalty/members/{member.pk}/").json()["number"] == member.number


def test_the_nightly_fan_out_sends_one_message_per_group_with_the_module_on(
    programme, tenant_b, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr(tasks.loyalty_nightly, "delay", lambda schema: sent.append(schema))

    assert tasks.loyalty_nightly_everywhere.run() == 1
    assert sent == [programme["tenant"].schema_name]
    with tenant_context(tenant_b):
        module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    sent.clear()
    assert tasks.loyalty_nightly_everywhere.run() == 2
    assert sorted(sent) == sorted([programme["tenant"].schema_name, tenant_b.schema_name])
