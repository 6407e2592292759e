"""A campaign's chunk reads what does not change between its messages (the tenant's
address for the tracked links, the rights and definitions versions) once, not once per
link or per message: the queries of a send grow by a fixed few per message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.marketing.services.delivery import campaign_deliver
from tests.marketing.conftest import campaign_for, opted_in_guest

pytestmark = pytest.mark.django_db

# Per message: its savepoint and release, the campaign still sending, the recipient row
# locked, the guest, its consent, the suppression list, the recipient's update.
PER_MESSAGE = 8


def _queries_to_send(count: int, name: str) -> int:
    guests = [opted_in_guest(email=f"{name}{n}@guest.test") for n in range(count)]
    campaign = campaign_for(guests, name=name)
    with CaptureQueriesContext(connection) as captured:
        counts = campaign_deliver(campaign_id=campaign.pk)
    assert counts["sent"] == count
    return len(captured)


def test_the_queries_of_a_chunk_grow_by_a_fixed_few_per_message(marketing, smtp):
    four = _queries_to_send(4, "four")
    twelve = _queries_to_send(12, "twelve")

    assert len(smtp.messages) == 16
    assert (twelve - four) / 8 <= PER_MESSAGE, (four, twelve)
