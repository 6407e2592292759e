"""Segment writes: create and change (the definition checked by evaluating it once, so a
condition on a field the author cannot read is refused when saved, not when sent),
static lists from picked guests or a snapshot of another segment, delete."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from crm.marketing.models import Segment, SegmentMember
from crm.marketing.selectors.segments import definition_clean, segment_guests
from crm.models import Guest, RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict

MAX_PICKED = 10_000


def _others_clean(segment: Segment) -> None:
    for key in ("include", "exclude"):
        ids = list(dict.fromkeys(getattr(segment, key) or []))
        if segment.pk and segment.pk in ids:
            raise ValidationError({key: "A segment cannot include or exclude itself."})
        found = set(Segment.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationError({key: f"There is no segment {missing[0]}."})
        setattr(segment, key, ids)


def _audit(segment: Segment, old: dict, actor: Principal, action: str) -> None:
    changes_record(
        object_api_name="segment",
        record_id=segment.pk,
        old=old,
        new={
            n: getattr(segment, n)
            for n in ("name", "description", "kind", "definition", "include", "exclude")
        },
        user_id=actor.user_id,
        action=action,
    )


@transaction.atomic
def segment_create(
    *,
    actor: Principal,
    name: str,
    kind: str = Segment.Kind.DYNAMIC,
    description: str = "",
    definition: Any = None,
    include: list[int] | None = None,
    exclude: list[int] | None = None,
    guest_ids: list[int] | None = None,
) -> Segment:
    actor.require("segment", "create")
    if kind not in Segment.Kind.values:
        raise ValidationError({"kind": "A segment is dynamic or static."})
    if kind == Segment.Kind.STATIC and definition:
        raise ValidationError({"definition": "A static list has members, not conditions."})
    if kind == Segment.Kind.DYNAMIC and guest_ids:
        raise ValidationError({"guest_ids": "A dynamic segment's guests follow its conditions."})
    segment = Segment(
        name=name,
        description=description,
        kind=kind,
        definition=definition_clean(definition),
        include=include or [],
        exclude=exclude or [],
        created_by_id=actor.user_id,
    )
    _others_clean(segment)
    segment.full_clean()
    segment.save()
    if guest_ids:
        static_members_add(segment=segment, guest_ids=guest_ids, actor=actor)
    segment_guests(actor=actor, segment=segment).exists()  # refuses what cannot be read
    _audit(segment, {}, actor, RecordChange.Action.CREATE)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, actor: Principal, **fields: Any) -> Segment:
    actor.require("segment", "edit")
    allowed = {"name", "description", "definition", "include", "exclude"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError({unknown[0]: f"{unknown[0]} cannot be changed."})
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    old = {n: getattr(segment, n) for n in fields}
    if "definition" in fields:
        if segment.kind == Segment.Kind.STATIC and fields["definition"]:
            raise ValidationError({"definition": "A static list has members, not conditions."})
        fields["definition"] = definition_clean(fields["definition"])
    for name, value in fields.items():
        setattr(segment, name, value if value is not None else getattr(segment, name))
    _others_clean(segment)
    segment.full_clean()
    segment.save()
    segment_guests(actor=actor, segment=segment).exists()
    _audit(segment, old, actor, RecordChange.Action.UPDATE)
    return segment


@transaction.atomic
def static_members_add(*, segment: Segment, guest_ids: list[int], actor: Principal) -> int:
    """Add picked guests to a static list; guests the principal cannot see are refused
    like guests that do not exist."""
    actor.require("segment", "edit")
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError({"guest_ids": "Only a static list has picked members."})
    if len(guest_ids) > MAX_PICKED:
        raise ValidationError({"guest_ids": f"Add at most {MAX_PICKED} guests at a time."})
    wanted = set(guest_ids)
    visible = set(
        actor.scope(
            "guest", Guest.objects.filter(pk__in=wanted, erased_at__isnull=True)
        ).values_list("pk", flat=True)
    )
    missing = sorted(wanted - visible)
    if missing:
        raise ValidationError({"guest_ids": f"There is no guest {missing[0]}."})
    created = SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, guest_id=pk) for pk in sorted(visible)],
        ignore_conflicts=True,
    )
    return len(created)


@transaction.atomic
def segment_snapshot(*, segment: Segment, name: str, actor: Principal) -> Segment:
    """A static list holding the segment's members now."""
    actor.require("segment", "create")
    snapshot = Segment.objects.create(
        name=name,
        kind=Segment.Kind.STATIC,
        description=f"Snapshot of {segment.name}",
        created_by_id=actor.user_id,
    )
    members = segment_guests(actor=actor, segment=segment).values_list("pk", flat=True)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=snapshot, guest_id=pk) for pk in members.iterator()],
        batch_size=2000,
    )
    _audit(snapshot, {}, actor, RecordChange.Action.CREATE)
    return snapshot


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Principal) -> None:
    actor.require("segment", "delete")
    if Segment.objects.filter(include__contains=[segment.pk]).exists() or (
        Segment.objects.filter(exclude__contains=[segment.pk]).exists()
    ):
        raise Conflict("Another segment includes or excludes it.", code="in_use", field="id")
    try:
        pk = segment.pk
        segment.delete()
    except ProtectedError:
        raise Conflict("A campaign uses this segment.", code="in_use", field="id") from None
    changes_record(
        object_api_name="segment",
        record_id=pk,
        old={"name": segment.name},
        new={},
        user_id=actor.user_id,
        action=RecordChange.Action.DELETE,
    )
