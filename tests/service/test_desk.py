"""The case desk: assignment rules (round robin, by hotel and category, agents who can no
longer work the case passed over), merging a duplicate (messages, notes and compensation
move; different guests, self and repeated merges refused), compensation (money in the
hotel's currency, approval by someone else with the right to, one decision, approved
points credited to the guest's loyalty membership)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.models import Activity, Case
from crm.service.models import CaseMerge, CaseMessage, Compensation
from crm.service.services.desk import (
    assignment_rule_create,
    case_assign,
    case_merge,
    compensation_decide,
    compensation_request,
)
from crm.services.activities import activity_create
from crm.services.cases import case_create
from metadata.services.modules import module_set_enabled
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import Conflict
from tests.crm.factories import make_guest
from tests.principals import SYSTEM
from tests.service.conftest import PARIS

pytestmark = pytest.mark.django_db


def _case(subject, hotel, **extra):
    return case_create(subject=subject, property=hotel, actor=SYSTEM, **extra)


def test_rules_hand_new_cases_out_in_turn_to_agents_who_may_work_them(hotels, make_user, clock):
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS))
    ana = make_user("service_agent", hotels=[hotels["paris"]])
    ben = make_user("service_agent", hotels=[hotels["paris"]])
    kenji = make_user("service_agent", hotels=[hotels["tokyo"]])  # cannot work Paris cases
    reader = make_user("read_only")  # cannot edit cases at all
    gm = Principal.of(make_user("general_manager"))
    assignment_rule_create(
        values={"name": "Paris rooms", "property": hotels["paris"].pk, "category": "room",
                "agents": [ana.pk, kenji.pk, reader.pk, ben.pk]},
        actor=gm,
    )  # fmt: skip
    owners = [_case(f"Room {n}", hotels["paris"], category="room").owner_id for n in range(4)]
    assert owners == [ana.pk, ben.pk, ana.pk, ben.pk]
    # No rule for Tokyo, none for another category: nobody owns those.
    assert _case("Noise", hotels["tokyo"], category="room").owner_id is None
    assert _case("Bill", hotels["paris"], category="billing").owner_id is None
    # A case created with an owner keeps it.
    assert _case("Own", hotels["paris"], category="room", owner=kenji).owner_id == kenji.pk

    with pytest.raises(AccessDenied):
        assignment_rule_create(values={"name": "x", "agents": [ana.pk]}, actor=Principal.of(ana))
    with pytest.raises(ValidationError) as bad:
        assignment_rule_create(values={"name": "x", "agents": [ana.pk, 10**12]}, actor=gm)
    assert list(bad.value.message_dict) == ["agents"]
    with pytest.raises(ValidationError) as bad:
        assignment_rule_create(values={"name": "x", "agents": [], "category": "spa"}, actor=gm)
    assert set(bad.value.message_dict) <= {"agents", "category"}


def test_a_case_is_given_only_to_someone_who_may_work_it(hotels, make_user):
    case = _case("Broken lamp", hotels["paris"])
    kenji = make_user("service_agent", hotels=[hotels["tokyo"]])
    ana = make_user("service_agent", hotels=[hotels["paris"]])
    with pytest.raises(ValidationError) as refused:
        case_assign(case=case, owner_id=kenji.pk, actor=SYSTEM)
    assert list(refused.value.message_dict) == ["owner"]
    assert case_assign(case=case, owner_id=ana.pk, actor=Principal.of(ana)).owner_id == ana.pk
    assert case_assign(case=case, owner_id=None, actor=SYSTEM).owner_id is None
    # An agent of another hotel cannot take the case at all.
    with pytest.raises(AccessDenied):
        case_assign(case=case, owner_id=kenji.pk, actor=Principal.of(kenji))


def test_a_duplicate_folds_into_the_case_it_repeats(hotels, make_user):
    guest = make_guest(given_name="Lea", surname="Roux", emails=["lea@example.fr"])
    first = _case("Cold room", hotels["paris"], guest=guest)
    again = _case("Room is cold!", hotels["paris"], guest=guest)
    CaseMessage.objects.create(
        case=again, direction="in", address="lea@example.fr", subject="Re", body="Still cold"
    )
    activity_create(
        object_api_name="case", record_id=again.pk, kind="note", body="Called her", actor=SYSTEM
    )
    agent = Principal.of(make_user("service_agent", hotels=[hotels["paris"]]))
    compensation_request(case=again, kind="voucher", amount="20", actor=agent)

    kept = case_merge(duplicate=again, primary=first, actor=agent)
    assert kept.pk == first.pk
    assert CaseMessage.objects.get().case_id == first.pk
    assert Activity.objects.get(object_api_name="case").record_id == str(first.pk)
    assert Compensation.objects.get().case_id == first.pk
    again.refresh_from_db()
    assert again.status == Case.Status.CLOSED
    assert CaseMerge.objects.get(duplicate=again).primary_id == first.pk

    with pytest.raises(Conflict) as twice:
        case_merge(duplicate=again, primary=first, actor=agent)
    assert twice.value.code == "merged"
    with pytest.raises(Conflict) as itself:
        case_merge(duplicate=first, primary=first, actor=agent)
    assert itself.value.code == "same_case"
    other = _case("Other guest", hotels["paris"], guest=make_guest(given_name="Tom"))
    with pytest.raises(Conflict) as strangers:
        case_merge(duplicate=other, primary=first, actor=agent)
    assert strangers.value.code == "different_guests"
    tokyo = _case("Tokyo case", hotels["tokyo"], guest=guest)
    with pytest.raises(AccessDenied):
        case_merge(duplicate=tokyo, primary=first, actor=agent)


def test_compensation_is_asked_for_by_one_and_decided_by_another(hotels, make_user):
    case = _case("Late check-in", hotels["tokyo"])
    agent = Principal.of(make_user("service_agent"))
    gm_user = make_user("general_manager")
    gm = Principal.of(gm_user)
    asked = compensation_request(case=case, kind="credit", amount="1500.4", actor=agent)
    # In the hotel's currency, rounded to its minor unit (the yen has none).
    assert (asked.amount, asked.currency) == (Decimal("1500"), "JPY")
    for bad in ({"amount": "NaN"}, {"amount": 1.5}, {"amount": "-3"}, {"amount": None}):
        with pytest.raises(ValidationError) as refused:
            compensation_request(case=case, kind="credit", actor=agent, **bad)
        assert list(refused.value.message_dict) == ["amount"]
    with pytest.raises(ValidationError):
        compensation_request(case=case, kind="cash", amount="5", actor=agent)

    with pytest.raises(AccessDenied):
        compensation_decide(compensation=asked, approve=True, actor=agent)
    own = compensation_request(case=case, kind="voucher", amount="3000", actor=gm)
    with pytest.raises(AccessDenied):
        compensation_decide(compensation=own, approve=True, actor=gm)
    done = compensation_decide(compensation=asked, approve=True, actor=gm, note="OK")
    assert (done.status, done.decided_by) == ("approved", gm_user.pk)
    with pytest.raises(Conflict):
        compensation_decide(compensation=asked, approve=False, actor=gm)


def test_approved_points_reach_the_guests_loyalty_membership(hotels, make_user):
    from crm.loyalty.models import Member

    guest = make_guest(given_name="Mia", surname="Berg")
    case = _case("Noisy room", hotels["paris"], guest=guest)
    agent = Principal.of(make_user("service_agent"))
    module_set_enabled(key="loyalty", enabled=False, actor=SYSTEM)
    with pytest.raises(ValidationError) as off:
        compensation_request(case=case, kind="points", points=500, actor=agent)
    assert list(off.value.message_dict) == ["kind"]
    module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
    asked = compensation_request(case=case, kind="points", points=500, actor=agent)
    assert not Member.objects.filter(guest=guest).exists()
    compensation_decide(
        compensation=asked, approve=True, actor=Principal.of(make_user("general_manager"))
    )
    member = Member.objects.get(guest=guest)
    assert member.balance == 500
