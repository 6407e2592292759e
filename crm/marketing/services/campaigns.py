"""Campaign life: draft -> scheduled -> sending (-> paused -> sending) -> sent, or
cancelled.

Starting a campaign freezes its content and writes one ``Recipient`` row per guest of
the segment (unique per campaign and guest, inserted with ON CONFLICT DO NOTHING, so a
start run twice adds nobody twice). A hold-out share becomes the control group (never
sent, compared in the report); with an A/B test a sample is split between subject A and
B and the rest waits for the winner. Delivery (``services.delivery``) then works through
the queued rows in chunks."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from crm.marketing.models import Campaign, EmailTemplate, Offer, Recipient, Segment
from crm.marketing.services.templates import template_contents
from crm.models import RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict

AUDIENCE_BATCH = 5000
# Chunks of one campaign in flight at once. Each chunk queues the next, so one chain
# keeps one worker busy however many there are; rows are taken with SKIP LOCKED, so
# chains never send a row twice. A chain that finds nothing left ends.
DELIVERY_CHAINS = 2
EDITABLE = (
    "name",
    "segment",
    "template",
    "offer",
    "subject_b",
    "ab_sample_percent",
    "ab_wait_minutes",
    "holdout_percent",
    "frequency_cap_days",
    "attribution_days",
)


def _clean(campaign: Campaign) -> None:
    errors: dict[str, str] = {}
    if campaign.holdout_percent > 50:
        errors["holdout_percent"] = "Hold out at most 50%."
    if campaign.ab_sample_percent > 100:
        errors["ab_sample_percent"] = "The sample is at most 100%."
    if campaign.ab_sample_percent and not campaign.subject_b:
        errors["subject_b"] = "An A/B test needs subject B (per language)."
    if campaign.subject_b:
        if not isinstance(campaign.subject_b, dict):
            errors["subject_b"] = 'Give subject B per language: {"en": "..."}.'
        else:
            from crm.marketing.rendering import text_clean

            for language, text in campaign.subject_b.items():
                try:
                    text_clean(text, "subject_b", limit=300)
                except ValidationError as exc:
                    errors["subject_b"] = "; ".join(exc.messages)
                if not isinstance(text, str) or not text.strip():
                    errors["subject_b"] = f"Subject B in {language} is empty."
    if campaign.channel not in Campaign.Channel.values:
        errors["channel"] = "The channel is email or sms."
    if errors:
        raise ValidationError(errors)


def _audit(campaign: Campaign, old: dict, new: dict, actor: Principal, action: str) -> None:
    changes_record(
        object_api_name="campaign",
        record_id=campaign.pk,
        old=old,
        new=new,
        user_id=actor.user_id,
        action=action,
    )


@transaction.atomic
def campaign_create(
    *,
    actor: Principal,
    name: str,
    segment: Segment,
    template: EmailTemplate,
    channel: str = Campaign.Channel.EMAIL,
    offer: Offer | None = None,
    **fields: Any,
) -> Campaign:
    actor.require("campaign", "create")
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError({unknown[0]: f"{unknown[0]} is not a setting of a campaign."})
    campaign = Campaign(
        name=name,
        segment=segment,
        template=template,
        channel=channel,
        offer=offer,
        created_by_id=actor.user_id,
        **fields,
    )
    _clean(campaign)
    campaign.full_clean(exclude=["segment", "template", "offer"])
    campaign.save()
    _audit(
        campaign,
        {},
        {"name": name, "segment": segment.pk, "template": template.pk, "channel": channel},
        actor,
        RecordChange.Action.CREATE,
    )
    return campaign


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _transition(campaign: Campaign, *, allowed: tuple[str, ...], to: str, what: str) -> None:
    if campaign.status not in allowed:
        raise Conflict(
            f"A {campaign.status} campaign cannot be {what}.", code="campaign_state", field="status"
        )
    campaign.status = to


@transaction.atomic
def campaign_schedule(
    *, campaign: Campaign, actor: Principal, at: datetime | None = None
) -> Campaign:
    """Send at ``at`` (an aware time; the UI reads it in the hotel group's time zone), or
    now. The start runs on commit (now) or when the sweeper finds it due."""
    actor.require("campaign", "edit")
    campaign = _locked(campaign)
    if at is not None and timezone.is_naive(at):
        raise ValidationError({"scheduled_at": "Give the time with its UTC offset."})
    _transition(campaign, allowed=("draft", "scheduled"), to="scheduled", what="scheduled")
    campaign.scheduled_at = at or timezone.now()
    campaign.save(update_fields=["status", "scheduled_at"])
    _audit(
        campaign,
        {},
        {"status": "scheduled", "scheduled_at": campaign.scheduled_at},
        actor,
        "update",
    )
    if campaign.scheduled_at <= timezone.now():
        pk = campaign.pk
        transaction.on_commit(lambda: dispatch("campaign_start", pk))
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor: Principal) -> Campaign:
    """Chunks stop before their next message; queued rows stay queued."""
    actor.require("campaign", "edit")
    campaign = _locked(campaign)
    _transition(campaign, allowed=("sending", "scheduled"), to="paused", what="paused")
    campaign.save(update_fields=["status"])
    _audit(campaign, {}, {"status": "paused"}, actor, "update")
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor: Principal) -> Campaign:
    actor.require("campaign", "edit")
    campaign = _locked(campaign)
    started = campaign.started_at is not None
    _transition(
        campaign, allowed=("paused",), to="sending" if started else "scheduled", what="resumed"
    )
    if not started:
        # Whoever resumes a campaign not yet started becomes the one whose rights build
        # its audience (its author may have left).
        campaign.created_by_id = actor.user_id
    campaign.save(update_fields=["status", "created_by_id"])
    _audit(campaign, {}, {"status": campaign.status}, actor, "update")
    pk = campaign.pk
    transaction.on_commit(lambda: deliver_chains(pk) if started else dispatch("campaign_start", pk))
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, actor: Principal) -> Campaign:
    """Nothing more is sent; rows still queued are marked skipped (cancelled)."""
    actor.require("campaign", "edit")
    campaign = _locked(campaign)
    _transition(
        campaign,
        allowed=("draft", "scheduled", "sending", "paused"),
        to="cancelled",
        what="cancelled",
    )
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    Recipient.objects.filter(campaign=campaign, status=Recipient.Status.QUEUED).update(
        status=Recipient.Status.SKIPPED, reason="cancelled"
    )
    _audit(campaign, {}, {"status": "cancelled"}, actor, "update")
    return campaign


def _bucket(campaign_id: int, guest_id: int) -> int:
    """A stable 0-99 draw per campaign and guest: the same guest lands in the same group
    however often the audience is built."""
    digest = hashlib.sha256(f"{campaign_id}:{guest_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def _group(campaign: Campaign, guest_id: int) -> tuple[str, str]:
    """(status, variant) of a new recipient."""
    draw = _bucket(campaign.pk, guest_id)
    if draw < campaign.holdout_percent:
        return Recipient.Status.CONTROL, ""
    if not campaign.ab_sample_percent:
        return Recipient.Status.QUEUED, "a"
    # The sample is a share of the guests who are not held out.
    span = 100 - campaign.holdout_percent
    position = (draw - campaign.holdout_percent) * 100 // span
    if position < campaign.ab_sample_percent:
        return Recipient.Status.QUEUED, "a" if position % 2 == 0 else "b"
    return Recipient.Status.QUEUED, ""


def campaign_start(*, campaign_id: int, now: datetime | None = None) -> Campaign | None:
    """Build the audience and turn the campaign to sending (a due, scheduled campaign
    only; safe to run twice). The audience is the segment as the campaign's author sees
    it (their hotels, their field rights)."""
    from crm.marketing.selectors.segments import segment_guests
    from metadata.workflows.masking import owner_principal

    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign_id, status=Campaign.Status.SCHEDULED, scheduled_at__lte=now)
            .select_related("segment", "template")
            .first()
        )
        if campaign is None:
            return None
        author = owner_principal(campaign.created_by_id)
        if author is None and campaign.created_by_id is not None:
            # The author left (deactivated): nobody's rights to build the audience with,
            # and the platform's would reach guests the author never could. Held for
            # someone to resume as themselves.
            campaign.status = Campaign.Status.PAUSED
            campaign.save(update_fields=["status"])
            return None
        author = author or Principal.system("campaign")
        campaign.content = template_contents(campaign.template)
        if not campaign.content:
            raise ValidationError({"template": "The template has no text."})
        guests = segment_guests(actor=author, segment=campaign.segment).values_list("pk", flat=True)
        batch: list[Recipient] = []
        for guest_id in guests.iterator(chunk_size=AUDIENCE_BATCH):
            status, variant = _group(campaign, guest_id)
            batch.append(
                Recipient(campaign=campaign, guest_id=guest_id, status=status, variant=variant)
            )
            if len(batch) >= AUDIENCE_BATCH:
                Recipient.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        Recipient.objects.bulk_create(batch, ignore_conflicts=True)
        campaign.status = Campaign.Status.SENDING
        campaign.started_at = now
        if campaign.ab_sample_percent and campaign.ab_sample_percent < 100:
            campaign.ab_decide_at = now + timedelta(minutes=campaign.ab_wait_minutes)
        campaign.save(update_fields=["status", "started_at", "content", "ab_decide_at"])
        pk = campaign.pk
        transaction.on_commit(lambda: deliver_chains(pk))
    return campaign


def ab_results(campaign: Campaign) -> dict[str, dict[str, int]]:
    reached = ("sent", "delivered", "opened", "clicked", "unsubscribed")
    rows = (
        Recipient.objects.filter(campaign=campaign, variant__in=["a", "b"])
        .exclude(status__in=["queued", "control"])
        .values("variant")
        .annotate(
            sent=Count("pk", filter=Q(status__in=reached) | Q(opened_at__isnull=False)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
    )
    out = {v: {"sent": 0, "opened": 0, "clicked": 0} for v in ("a", "b")}
    for row in rows:
        out[row["variant"]] = {k: row[k] for k in ("sent", "opened", "clicked")}
    return out


def ab_decide(*, campaign_id: int, now: datetime | None = None, force: bool = False) -> str:
    """Pick the subject with the better open rate on the sample (clicks break a tie, A
    wins a full tie) and give it to every guest still waiting. Returns the winner, or ""
    when it is not time yet."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.ab_winner:
            return campaign.ab_winner
        if not campaign.ab_decide_at or (not force and campaign.ab_decide_at > now):
            return ""
        results = ab_results(campaign)

        def score(variant: str) -> tuple:
            r = results[variant]
            sent = r["sent"] or 1
            return (r["opened"] / sent, r["clicked"] / sent)

        winner = "b" if score("b") > score("a") else "a"
        campaign.ab_winner = winner
        campaign.save(update_fields=["ab_winner"])
        Recipient.objects.filter(campaign=campaign, variant="", status="queued").update(
            variant=winner
        )
        transaction.on_commit(lambda: deliver_chains(campaign_id))
    return winner


def deliver_chains(campaign_id: int) -> None:
    """Start DELIVERY_CHAINS chains of chunks (``tasks.campaign_deliver``)."""
    for _ in range(DELIVERY_CHAINS):
        dispatch("campaign_deliver", campaign_id)


def dispatch(task: str, campaign_id: int) -> None:
    """Queue ``crm.marketing.tasks.<task>`` in the current tenant's schema (the Celery
    app carries it); inline where there is no worker."""
    if settings.ATRIUM_WORKFLOWS_INLINE:
        from crm.marketing import tasks

        getattr(tasks, task).run(campaign_id)
        return
    from celery import current_app

    current_app.send_task(f"crm.marketing.tasks.{task}", args=[campaign_id])
