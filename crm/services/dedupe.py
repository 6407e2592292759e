"""Duplicate detection, merge and undo of guest profiles."""

from __future__ import annotations

import json

from django.core import serializers
from django.db import connection, models, transaction
from django.utils import timezone

from crm.models import (
    Activity,
    CompanyContact,
    DuplicateSuggestion,
    Guest,
    GuestAddress,
    GuestConsent,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    GuestPreference,
    MergeLog,
    RecordChange,
    Reservation,
    ReservationGuest,
)
from crm.models.fields import EncryptedTextField, encrypt_text
from crm.services.audit import event_record
from crm.services.custom import custom_clean
from crm.services.guests import guest_statistics_refresh
from tenants.access.principal import Principal
from tenants.errors import ApplicationError, Conflict

NAME_SIMILARITY = 0.6
# Child tables keyed by ``guest``; merge moves their rows, undo puts them back.
GUEST_CHILDREN: tuple[type[models.Model], ...] = (
    GuestEmail,
    GuestPhone,
    GuestAddress,
    GuestPreference,
    GuestConsent,
    GuestExternalId,
    CompanyContact,
    ReservationGuest,
)
# Fields the survivor takes from the duplicate when its own are empty.
FILLABLE = (
    "name_prefix",
    "middle_name",
    "name_suffix",
    "birth_date",
    "gender",
    "nationality",
    "language",
    "id_document_type",
    "id_document_number",
    "id_document_expiry",
    "id_document_country",
)


def name_trigrams(name: str) -> set[str]:
    """Trigrams of a name as pg_trgm counts them: lower case, each word padded with two
    spaces in front and one behind, so short names and word starts weigh in."""
    grams: set[str] = set()
    for word in "".join(ch if ch.isalnum() else " " for ch in name.lower()).split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def name_similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of both names (0..1), as pg_trgm's similarity()."""
    ta, tb = name_trigrams(a), name_trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def duplicates_find() -> int:
    """Record open suggestions for pairs matched by a rule: the same e-mail (case
    folded), the same phone (E.164) or, with the same birth date, names with a trigram
    similarity of at least NAME_SIMILARITY. Dismissed pairs stay dismissed. Returns the
    number of new suggestions.

    Names are compared in Python, only within a birth date (the blocking key), so the
    rule needs no database extension (the embedded PostgreSQL ships none).

    New rows are counted from RETURNING, not ``cursor.rowcount``: Citus reports the rows
    an INSERT ... SELECT selected, conflicts included (citusdata/citus#3377)."""
    exact_sql = """
    WITH live AS (SELECT id FROM crm_guest WHERE erased_at IS NULL),
    emails AS (
        SELECT guest_id, lower(email) AS value FROM crm_guestemail
        UNION SELECT id, lower(email) FROM crm_guest WHERE email <> ''
    ),
    phones AS (
        SELECT guest_id, number AS value FROM crm_guestphone
        UNION SELECT id, phone FROM crm_guest WHERE phone <> ''
    ),
    pairs AS (
        SELECT a.guest_id AS ga, b.guest_id AS gb, 'email' AS rule
        FROM emails a JOIN emails b ON a.value = b.value AND a.guest_id < b.guest_id
        UNION
        SELECT a.guest_id, b.guest_id, 'phone'
        FROM phones a JOIN phones b ON a.value = b.value AND a.guest_id < b.guest_id
    )
    INSERT INTO crm_duplicatesuggestion (guest_a_id, guest_b_id, rule, score, status, created)
    SELECT DISTINCT ga, gb, rule, 1.0, 'open', now() FROM pairs
    WHERE ga IN (SELECT id FROM live) AND gb IN (SELECT id FROM live)
    ON CONFLICT (guest_a_id, guest_b_id, rule) DO NOTHING
    RETURNING 1
    """
    same_birth_date_sql = """
    SELECT a.id, b.id, a.given_name || ' ' || a.surname, b.given_name || ' ' || b.surname
    FROM crm_guest a JOIN crm_guest b ON a.birth_date = b.birth_date AND a.id < b.id
    WHERE a.erased_at IS NULL AND b.erased_at IS NULL
    """
    insert_sql = """
    INSERT INTO crm_duplicatesuggestion (guest_a_id, guest_b_id, rule, score, status, created)
    VALUES (%s, %s, 'name_birth_date', %s, 'open', now())
    ON CONFLICT (guest_a_id, guest_b_id, rule) DO NOTHING
    RETURNING 1
    """
    with connection.cursor() as cursor:
        cursor.execute(exact_sql)
        created = len(cursor.fetchall())
        cursor.execute(same_birth_date_sql)
        similar = [
            (ga, gb, round(score, 4))
            for ga, gb, name_a, name_b in cursor.fetchall()
            if (score := name_similarity(name_a, name_b)) >= NAME_SIMILARITY
        ]
        for row in similar:
            cursor.execute(insert_sql, row)
            created += len(cursor.fetchall())
    return created


@transaction.atomic
def duplicate_dismiss(*, suggestion: DuplicateSuggestion, actor: Principal) -> DuplicateSuggestion:
    actor.require("guest", "edit")
    suggestion.status = DuplicateSuggestion.Status.DISMISSED
    suggestion.save(update_fields=["status"])
    return suggestion


def _serialize(objects) -> list[dict]:
    """Rows as Django's JSON serializer writes them, with encrypted fields kept as
    ciphertext so the merge log never holds identity numbers in clear."""
    objects = list(objects)
    data = json.loads(serializers.serialize("json", objects))
    for obj, row in zip(objects, data, strict=True):
        for field in obj._meta.concrete_fields:
            if isinstance(field, EncryptedTextField) and row["fields"].get(field.name):
                row["fields"][field.name] = encrypt_text(row["fields"][field.name])
    return data


def _restore(rows: list[dict]) -> None:
    """Insert or update rows exactly as serialized, timestamps included."""
    for item in serializers.deserialize("json", json.dumps(rows)):
        item.save()
        obj = item.object
        stamps = {
            f.name: getattr(obj, f.name)
            for f in obj._meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }
        if stamps:  # save() stamped them with now; put the recorded values back
            type(obj)._default_manager.filter(pk=obj.pk).update(**stamps)


def _guest_state(guest_ids: list[int]) -> dict:
    return {
        "guests": _serialize(Guest.objects.filter(pk__in=guest_ids).order_by("pk")),
        "children": {
            model._meta.label: _serialize(
                model._default_manager.filter(guest_id__in=guest_ids).order_by("pk")
            )
            for model in GUEST_CHILDREN
        },
    }


@transaction.atomic
def guest_merge(*, survivor: Guest, duplicate: Guest, actor: Principal) -> MergeLog:
    """Fold ``duplicate`` into ``survivor``: reservations, stays, activities, consents,
    external ids, contact data, preferences, company links and custom values move; the
    survivor keeps its own values and takes the duplicate's where it has none. The
    duplicate profile is deleted. The log's snapshot lets guest_merge_undo put
    everything back. Needs edit on guests and delete (the duplicate goes), both profiles
    within the principal's hotels."""
    actor.require("guest", "edit")
    actor.require("guest", "delete")
    for guest in (survivor, duplicate):
        actor.require_record_in_scope("guest", Guest.objects.all(), guest.pk)
    if survivor.pk == duplicate.pk:
        raise ApplicationError("A guest cannot be merged into itself.", code="merge_self")
    guests = {
        g.pk: g
        for g in Guest.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if len(guests) != 2:
        raise ApplicationError("Both guests must exist to merge them.", code="merge_missing")
    survivor, duplicate = guests[survivor.pk], guests[duplicate.pk]
    if survivor.erased_at or duplicate.erased_at:
        raise ApplicationError("Erased profiles cannot be merged.", code="merge_erased")

    reservations = list(
        Reservation.objects.filter(
            models.Q(guest=duplicate) | models.Q(booker_guest=duplicate)
        ).values("id", "guest_id", "booker_guest_id")
    )
    activity_ids = list(
        Activity.objects.filter(object_api_name="guest", record_id=str(duplicate.pk)).values_list(
            "id", flat=True
        )
    )
    snapshot = {
        **_guest_state([survivor.pk, duplicate.pk]),
        "reservations": reservations,
        "activities": activity_ids,
        "suggestions": _serialize(
            DuplicateSuggestion.objects.filter(
                models.Q(guest_a=duplicate) | models.Q(guest_b=duplicate)
            ).order_by("pk")
        ),
        "merge_logs": list(
            MergeLog.objects.filter(survivor=duplicate).values_list("id", flat=True)
        ),
    }

    Reservation.objects.filter(guest=duplicate).update(guest=survivor)
    Reservation.objects.filter(booker_guest=duplicate).update(booker_guest=survivor)
    MergeLog.objects.filter(survivor=duplicate).update(survivor=survivor)
    Activity.objects.filter(pk__in=activity_ids).update(record_id=str(survivor.pk))

    def key(row, clash: list[str]) -> tuple:
        # E-mail addresses clash whatever their case.
        return tuple(
            str(getattr(row, f)).lower() if f == "email" else getattr(row, f) for f in clash
        )

    def move(model, clash: list[str], primary: bool) -> None:
        mine = {key(row, clash) for row in model.objects.filter(guest=survivor)} if clash else set()
        has_primary = primary and model.objects.filter(guest=survivor, is_primary=True).exists()
        for row in model.objects.filter(guest=duplicate).order_by("pk"):
            if clash and key(row, clash) in mine:
                row.delete()
                continue
            row.guest = survivor
            fields = ["guest"]
            if primary and row.is_primary and has_primary:
                row.is_primary = False
                fields.append("is_primary")
            row.save(update_fields=fields)
            if primary and row.is_primary:
                has_primary = True
            if clash:
                mine.add(key(row, clash))

    move(GuestEmail, ["email"], primary=True)
    move(GuestPhone, ["number"], primary=True)
    move(GuestAddress, [], primary=True)
    move(GuestPreference, ["property_id", "group", "code"], primary=False)
    move(GuestConsent, [], primary=False)
    move(GuestExternalId, [], primary=False)
    move(CompanyContact, ["company_id", "role"], primary=False)
    move(ReservationGuest, ["reservation_id"], primary=False)
    # Where the duplicate was the primary guest, the survivor now is.
    ReservationGuest.objects.filter(
        guest=survivor, reservation__guest=survivor, is_primary=False
    ).update(is_primary=True)

    for name in FILLABLE:
        if getattr(survivor, name) in ("", None) and getattr(duplicate, name) not in ("", None):
            setattr(survivor, name, getattr(duplicate, name))
    survivor.tags = sorted(set(survivor.tags) | set(duplicate.tags))
    survivor.vip_level = max(survivor.vip_level, duplicate.vip_level)
    # The survivor keeps its values and takes the duplicate's where it has none, through
    # the one validation path of custom values.
    survivor.custom = custom_clean(
        object_api_name="guest",
        values={k: v for k, v in duplicate.custom.items() if k not in survivor.custom},
        existing=survivor.custom,
        partial=True,
        record_id=survivor.pk,
    )
    survivor.save()
    primary_email = survivor.emails.filter(is_primary=True).values_list("email", flat=True).first()
    primary_phone = survivor.phones.filter(is_primary=True).values_list("number", flat=True).first()
    Guest.objects.filter(pk=survivor.pk).update(
        email=primary_email or survivor.email or duplicate.email,
        phone=primary_phone or survivor.phone or duplicate.phone,
    )

    duplicate_pk = duplicate.pk
    duplicate.delete()  # suggestions of the pair go with it (cascade)
    guest_statistics_refresh(guest_ids=[survivor.pk])
    log = MergeLog.objects.create(
        survivor=survivor, merged_guest_id=duplicate_pk, snapshot=snapshot, user_id=actor.user_id
    )
    for record_id, other in ((survivor.pk, duplicate_pk), (duplicate_pk, survivor.pk)):
        event_record(
            object_api_name="guest",
            record_id=record_id,
            action=RecordChange.Action.MERGE,
            field="merge",
            new={"survivor": survivor.pk, "merged": duplicate_pk, "log": log.pk, "other": other},
            user_id=actor.user_id,
            # Subscribers hear of a merge once, on the surviving profile.
            announce=record_id == survivor.pk,
        )
    return log


@transaction.atomic
def guest_merge_undo(*, merge_log: MergeLog, actor: Principal) -> Guest:
    """Put both profiles and every moved row back as they were before the merge. Merges
    are undone newest first; edits made to the survivor after the merge are replaced
    by its state before the merge. Administrators only."""
    actor.require_admin("undo a merge")
    log = MergeLog.objects.select_for_update().get(pk=merge_log.pk)
    if log.undone_at is not None:
        raise Conflict("This merge was already undone.", code="merge_already_undone")
    if not log.snapshot:
        raise Conflict(
            "This merge can no longer be undone (the guest was erased).", code="merge_not_undoable"
        )
    later = MergeLog.objects.filter(
        survivor_id=log.survivor_id, undone_at__isnull=True, pk__gt=log.pk
    ).exists()
    if later:
        raise Conflict("Undo the later merges of this guest first.", code="merge_not_latest")
    if Guest.objects.filter(pk=log.merged_guest_id).exists():
        raise Conflict("The merged guest exists again; nothing to undo.", code="merge_conflict")
    snapshot = log.snapshot
    survivor_id, duplicate_id = log.survivor_id, log.merged_guest_id

    _restore(snapshot["guests"])  # the duplicate comes back with its own id
    for model in GUEST_CHILDREN:
        rows = snapshot["children"][model._meta.label]
        keep = [row["pk"] for row in rows]
        if any(f.name == "is_primary" for f in model._meta.fields):
            # Rows added after the merge give up primacy to the restored ones.
            model._default_manager.filter(guest_id__in=[survivor_id, duplicate_id]).exclude(
                pk__in=keep
            ).update(is_primary=False)
        _restore(rows)
    for row in snapshot["reservations"]:
        Reservation.objects.filter(pk=row["id"]).update(
            guest_id=row["guest_id"], booker_guest_id=row["booker_guest_id"]
        )
    Activity.objects.filter(pk__in=snapshot["activities"]).update(record_id=str(duplicate_id))
    MergeLog.objects.filter(pk__in=snapshot["merge_logs"]).update(survivor_id=duplicate_id)
    _restore(snapshot["suggestions"])
    _restore(snapshot["guests"])  # again: child restores must not leave traces on them
    # Equal to the restored figures unless reservations changed since the merge.
    guest_statistics_refresh(guest_ids=[survivor_id, duplicate_id])

    log.undone_at = timezone.now()
    log.save(update_fields=["undone_at"])
    for record_id in (survivor_id, duplicate_id):
        event_record(
            object_api_name="guest",
            record_id=record_id,
            action=RecordChange.Action.UNMERGE,
            field="merge",
            old={"survivor": survivor_id, "merged": duplicate_id, "log": log.pk},
            user_id=actor.user_id,
        )
    return Guest.objects.get(pk=duplicate_id)
