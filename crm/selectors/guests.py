"""Reads of guest profiles."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from crm.models import Guest, GuestConsent
from tenants.access.principal import Principal


def guests_list(*, query: str = "", filters: dict | None = None) -> QuerySet[Guest]:
    """Guests for lists. The identity number is decrypted only for display through
    ``Guest.id_document_number_masked``; nothing here filters on it."""
    guests = Guest.objects.all()
    if query:
        guests = guests.filter(
            Q(surname__icontains=query)
            | Q(given_name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__contains=query)
        )
    if filters:
        guests = guests.filter(**filters)
    return guests


def guest_get(*, guest_id: int) -> Guest:
    return Guest.objects.prefetch_related(
        "emails", "phones", "addresses", "preferences", "external_ids", "consents"
    ).get(pk=guest_id)


def guest_consents_current(*, guest: Guest) -> dict[tuple[str, str], GuestConsent]:
    """The latest consent per (channel, purpose)."""
    current: dict[tuple[str, str], GuestConsent] = {}
    for consent in guest.consents.order_by("channel", "purpose", "-recorded_at", "-pk"):
        current.setdefault((consent.channel, consent.purpose), consent)
    return current


def guest_reservations(*, guest: Guest) -> QuerySet:
    """The guest's reservations (as primary guest), newest arrival first."""
    from crm.models import Reservation

    return Reservation.objects.filter(guest=guest).select_related("property", "room_type")


def guest_duplicate_suggestions(*, guest: Guest) -> QuerySet:
    """Open duplicate suggestions that name this guest, with both profiles loaded."""
    from crm.models import DuplicateSuggestion

    return (
        DuplicateSuggestion.objects.filter(status=DuplicateSuggestion.Status.OPEN)
        .filter(Q(guest_a=guest) | Q(guest_b=guest))
        .select_related("guest_a", "guest_b")
    )


def duplicate_suggestions_open() -> QuerySet:
    """Every open duplicate suggestion with both profiles, most likely first."""
    from crm.models import DuplicateSuggestion

    return DuplicateSuggestion.objects.filter(
        status=DuplicateSuggestion.Status.OPEN
    ).select_related("guest_a", "guest_b")


def guest_consent_state(*, guest_id: int, channel: str, purpose: str) -> bool | None:
    """The latest consent of a guest for a channel and purpose: True (opted in), False
    (opted out or withdrawn) or None (never asked)."""
    return (
        GuestConsent.objects.filter(guest_id=guest_id, channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-pk")
        .values_list("opted_in", flat=True)
        .first()
    )


def guest_merges_undoable(*, survivor_ids: list[int] | None = None, limit: int = 50) -> list:
    """Merges not yet undone, newest first, each with ``merged_name`` (the merged
    profile's name as it was, from the merge's snapshot) for the screens."""
    from crm.models import MergeLog

    logs = MergeLog.objects.filter(undone_at__isnull=True).select_related("survivor")
    if survivor_ids is not None:
        logs = logs.filter(survivor_id__in=survivor_ids)
    out = []
    for log in logs.order_by("-merged_at", "-pk")[:limit]:
        rows = {row["pk"]: row["fields"] for row in (log.snapshot or {}).get("guests", [])}
        fields = rows.get(log.merged_guest_id, {})
        log.merged_name = " ".join(  # type: ignore[attr-defined]
            p for p in (fields.get("given_name"), fields.get("surname")) if p
        ) or str(log.merged_guest_id)
        out.append(log)
    return out


def guest_lookalikes(
    *,
    actor: Principal,
    given_name: str,
    surname: str,
    emails: list[str],
    phones: list[str],
    birth_date=None,
    nationality: str = "",
    limit: int = 5,
) -> list[tuple[Guest, str]]:
    """Profiles the caller may see that a new guest with these details may repeat, each
    with the rule that matched (the rules of the duplicate finder): the same e-mail (case
    folded), the same phone (E.164), the same birth date with similar names, or the same
    name. Asked before a profile is created, so the desk can open the existing one."""
    from django.db.models import Exists, OuterRef

    from crm.models import GuestEmail, GuestPhone
    from crm.services.common import phone_clean
    from crm.services.dedupe import NAME_SIMILARITY, name_similarity

    actor.require("guest", "view")
    live = actor.scope("guest", Guest.objects.filter(erased_at__isnull=True))
    found: dict[int, tuple[Guest, str]] = {}

    def add(rows, rule: str) -> None:
        for guest in rows[:limit]:
            found.setdefault(guest.pk, (guest, rule))

    folded = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if folded:
        by_email = Q()
        for email in folded:
            by_email |= Q(email__iexact=email)
        addresses = GuestEmail.objects.filter(guest=OuterRef("pk"), email__in=folded)
        add(live.filter(by_email | Exists(addresses)).order_by("pk"), "email")
    numbers = []
    for raw in phones:
        try:
            numbers.append(phone_clean(raw, region=nationality or None, field="phones"))
        except ValidationError:
            continue
    if numbers:
        numbered = GuestPhone.objects.filter(guest=OuterRef("pk"), number__in=numbers)
        add(live.filter(Q(phone__in=numbers) | Exists(numbered)).order_by("pk"), "phone")
    name = f"{given_name} {surname}".strip()
    if name and birth_date:
        same_day = live.filter(birth_date=birth_date).order_by("pk")[:200]
        add(
            [g for g in same_day if name_similarity(name, f"{g.given_name} {g.surname}")
             >= NAME_SIMILARITY],
            "name_birth_date",
        )  # fmt: skip
    if given_name.strip() and surname.strip():
        add(
            live.filter(
                given_name__iexact=given_name.strip(), surname__iexact=surname.strip()
            ).order_by("pk"),
            "name",
        )
    return list(found.values())[:limit]
