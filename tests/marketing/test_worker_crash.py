"""A campaign sent by a real Celery worker through a local SMTP server (aiosmtpd), the
worker killed (SIGKILL) in the middle of a message: a new worker and the sweeper finish
the campaign, and every recipient has exactly one message.

The kill is made to land inside a send: the SMTP server holds the 150th message's DATA
unanswered, so the worker waits there with that recipient's row locked and its
transaction open; the worker is killed there, the database rolls that row back to
``queued``, and the server never accepts that message (it answers the dead connection
with a 421)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.marketing.models import Campaign, EmailTemplate, Recipient, Segment, SegmentMember
from crm.marketing.services.campaigns import campaign_create, campaign_schedule
from crm.marketing.services.templates import template_create
from crm.models import Guest, GuestConsent, RecordChange
from tests.celery_worker import worker_kill, worker_start, worker_stop
from tests.marketing.conftest import TEMPLATE
from tests.principals import SYSTEM
from tests.workflows.smtp import free_port

RECIPIENTS = 400  # the issue measured 10,000; fewer keep the suite quick on two cores
HELD = 150
FAST = {"ATRIUM_MARKETING_STALE_SECONDS": "3"}


class HoldingInbox:
    """Accepts every message but the ``HELD``-th, whose answer waits until released
    and is then a refusal (its sender is dead by then)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.seen = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.seen += 1
            hold = self.seen == HELD
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 closing"
        with self.lock:
            self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


def _wait(predicate, lines, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker said:\n" + "".join(lines[-40:]))


def _campaign_status(campaign_pk: int) -> str:
    with schema_context("alpha"):
        return Campaign.objects.get(pk=campaign_pk).status


def _statuses(campaign_pk: int) -> dict[str, int]:
    with schema_context("alpha"):
        out: dict[str, int] = {}
        for status in Recipient.objects.filter(campaign_id=campaign_pk).values_list(
            "status", flat=True
        ):
            out[status] = out.get(status, 0) + 1
        return out


def test_a_campaign_whose_worker_is_killed_mid_send_reaches_everyone_once(
    django_db_setup, django_db_blocker
):
    inbox = HoldingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp_env = {
        **FAST,
        "ATRIUM_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
    }
    workers = []
    campaign_pk = None
    guest_ids: list[int] = []
    addresses = [f"crash{i:04d}@guest.test" for i in range(RECIPIENTS)]
    with django_db_blocker.unblock():
        try:
            with schema_context("alpha"):
                from tenants.models import Tenant

                assert "marketing" in Tenant.objects.get(slug="alpha").enabled_modules
                guests = Guest.objects.bulk_create(
                    Guest(given_name="Crash", surname=f"G{i:04d}", email=address)
                    for i, address in enumerate(addresses)
                )
                guest_ids = [g.pk for g in guests]
                GuestConsent.objects.bulk_create(
                    GuestConsent(
                        guest_id=pk,
                        channel="email",
                        purpose="marketing",
                        opted_in=True,
                        recorded_at=timezone.now(),
                    )
                    for pk in guest_ids
                )
                template = template_create(
                    key="crash", name="Crash", contents=TEMPLATE, actor=SYSTEM
                )
                segment = Segment.objects.create(name="Crash", kind="static")
                SegmentMember.objects.bulk_create(
                    SegmentMember(segment=segment, guest_id=pk) for pk in guest_ids
                )
                campaign = campaign_create(
                    name="Crash", segment=segment, template=template, actor=SYSTEM
                )
                campaign_pk = campaign.pk

            proc, lines = worker_start(smtp_env, name="mk1")
            workers.append(proc)
            with schema_context("alpha"):
                # Commits at once (no transaction here): the start is queued on commit.
                campaign_schedule(campaign=campaign, actor=SYSTEM)
            _wait(inbox.holding.is_set, lines, "the worker to reach the held message")
            worker_kill(proc)
            inbox.release.set()
            time.sleep(1)  # the dead worker's session notices and rolls back

            before = _statuses(campaign_pk)
            assert before.get("sent") == HELD - 1, before
            assert before.get("queued") == RECIPIENTS - (HELD - 1), before

            proc, lines = worker_start(smtp_env, name="mk2")
            workers.append(proc)
            time.sleep(3.5)  # past ATRIUM_MARKETING_STALE_SECONDS since the last send
            from crm.marketing.tasks import marketing_sweep

            marketing_sweep.delay("alpha")  # what beat sends every minute
            _wait(
                lambda: _statuses(campaign_pk) == {"sent": RECIPIENTS},
                lines,
                f"{RECIPIENTS} recipients to be sent (now {_statuses(campaign_pk)})",
            )
            _wait(lambda: len(inbox.accepted) >= RECIPIENTS, lines, "the last messages")
            assert sorted(inbox.accepted) == sorted(addresses)  # each exactly once
            # The chain that sent the last row marks the campaign sent once its loop
            # finds nothing left: a moment after that row's commit, not with it.
            _wait(lambda: _campaign_status(campaign_pk) == "sent", lines, "the campaign sent")
        finally:
            for proc in workers:
                worker_stop(proc)
            inbox.release.set()
            controller.stop()
            with schema_context("alpha"):
                if campaign_pk is not None:
                    Recipient.objects.filter(campaign_id=campaign_pk).delete()
                    Campaign.objects.filter(pk=campaign_pk).delete()
                Segment.objects.filter(name="Crash").delete()
                EmailTemplate.objects.filter(key="crash").delete()
                GuestConsent.objects.filter(guest_id__in=guest_ids).delete()
                Guest.objects.filter(pk__in=guest_ids).delete()
                RecordChange.objects.filter(
                    object_api_name__in=["campaign", "segment", "marketing_template"]
                ).delete()


@pytest.mark.django_db
def test_the_held_recipient_is_in_the_middle_of_the_send():
    # (Also makes pytest-django set up the test database when this file runs alone.)
    assert 0 < HELD < RECIPIENTS - 1
