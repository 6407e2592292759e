"""Campaign delivery's throughput: a chunk reads what does not change between its
messages (the tenant's address for the tracked links, the rights and definitions
versions) once, not per link or per message; and a campaign is sent by two chains of
chunks at once, so two workers both send (SKIP LOCKED keeps their rows apart)."""

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


def test_a_started_campaign_goes_out_by_two_chains_sending_each_row_once(
    marketing, smtp, django_capture_on_commit_callbacks
):
    from unittest import mock

    from crm.marketing.services import campaigns

    guests = [opted_in_guest(email=f"two{n}@guest.test") for n in range(5)]
    with (
        mock.patch.object(campaigns, "dispatch") as dispatch,
        django_capture_on_commit_callbacks(execute=True),
    ):
        campaign = campaign_for(guests, name="Two chains")
    deliveries = [c for c in dispatch.call_args_list if c.args[0] == "campaign_deliver"]
    assert len(deliveries) == campaigns.DELIVERY_CHAINS == 2

    # The two chains' chunks interleave; each row goes once.
    while (a := campaign_deliver(campaign_id=campaign.pk, limit=1))["sent"] + (
        b := campaign_deliver(campaign_id=campaign.pk, limit=2)
    )["sent"]:
        assert a["failed"] == b["failed"] == 0

    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == sorted(
        f"two{n}@guest.test" for n in range(5)
    )
    campaign.refresh_from_db()
    assert campaign.status == "sent"
