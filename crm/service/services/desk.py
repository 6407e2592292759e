"""Working a case at the desk: who owns it (by hand or by the assignment rules), folding a
duplicate into it, and what the guest is given for the trouble (compensation, approved
by someone with the right to).

Every function takes the acting principal and asks the access policy: the case's rights
and hotel scope for assignment and merges, ``case_compensation`` for compensation
(``create`` to ask, ``edit`` to decide), ``case_assignment_rule`` for the rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import Activity, Case
from crm.service.models import AssignmentRule, CaseMerge, CaseMessage, Compensation
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import Conflict

CLOSED = (Case.Status.RESOLVED, Case.Status.CLOSED)
MAX_RULE_AGENTS = 200


# --- who owns the case ----------------------------------------------------------------


def _agent_can_work(user, case: Case) -> bool:
    """May ``user`` work ``case``: active, with the right to edit cases, and the case's
    hotel within their hotel scope."""
    if user is None or not user.is_active:
        return False
    agent = Principal.of(user)
    if not agent.can("case", "edit"):
        return False
    ids = agent.property_ids()
    return ids is None or (case.property_id is not None and case.property_id in ids)


def _user(user_id: int):
    from tenants.users.models import User

    return User.objects.filter(pk=user_id).first()


def case_assign(*, case: Case, owner_id: int | None, actor: Principal) -> Case:
    """Give the case to ``owner_id`` (None: to nobody). 400 naming ``owner`` when that
    user cannot work the case (inactive, no right to edit cases, another hotel)."""
    from crm.services.cases import case_update

    actor.require("case", "edit")
    actor.require_record_in_scope("case", Case.objects.all(), case.pk)
    owner = None
    if owner_id is not None:
        owner = _user(owner_id)
        if owner is None or not _agent_can_work(owner, case):
            raise ValidationError({"owner": "Pick someone who may work cases of this hotel."})
    return case_update(case=case, owner=owner, actor=actor)


def case_agents(*, case: Case, limit: int = 300) -> list:
    """The users who may work ``case`` (to pick an owner from), by e-mail. Only users
    whose roles grant editing cases (or everything) are asked the full question, so the
    page does not load every account's rights; someone who may edit cases through a
    temporary grant alone is not offered here (the API's assign takes them)."""
    from django.db.models import Q

    from tenants.users.models import User

    roles = "access_roles__"
    users = (
        User.objects.filter(is_active=True)
        .filter(
            Q(**{f"{roles}object_permissions__target": "case",
                 f"{roles}object_permissions__can_edit": True})
            | Q(**{f"{roles}grants_everything": True})
        )
        .distinct()
        .order_by("email")[: limit * 2]
    )  # fmt: skip
    return [u for u in users if _agent_can_work(u, case)][:limit]


def rule_for(case: Case) -> AssignmentRule | None:
    for rule in AssignmentRule.objects.filter(active=True):
        if rule.property_id is not None and rule.property_id != case.property_id:
            continue
        if rule.category and rule.category != case.category:
            continue
        if rule.priority and rule.priority != case.priority:
            continue
        return rule
    return None


@transaction.atomic
def case_auto_assign(*, case_id: int) -> int | None:
    """A new case nobody owns goes to the next agent of the first matching rule who may
    still work it (an agent who left or moved hotel is passed over). Returns the owner's
    id, or None when no rule matches or no agent of it can. Concurrent new cases take
    turns: the rule's row is locked while its turn moves on."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.owner_id is not None:
        return None if case is None else case.owner_id
    rule = rule_for(case)
    if rule is None:
        return None
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    agents = [int(u) for u in rule.user_ids]
    for step in range(len(agents)):
        index = (rule.next_index + step) % len(agents)
        user = _user(agents[index])
        if _agent_can_work(user, case):
            rule.next_index = (index + 1) % len(agents)
            rule.save(update_fields=["next_index", "updated"])
            from crm.services.cases import case_update

            case_update(case=case, owner=user, actor=Principal.system(f"service: rule {rule.name}"))
            return user.pk
    return None


def _rule_values(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    from crm.models import Property

    out: dict[str, Any] = {}
    if "name" in values or not partial:
        name = str(values.get("name") or "").strip()
        if not name or len(name) > 100:
            raise ValidationError({"name": "Name the rule (up to 100 characters)."})
        out["name"] = name
    if "position" in values:
        position = values["position"]
        if (
            isinstance(position, bool)
            or not isinstance(position, int)
            or not 0 <= position < 10_000
        ):
            raise ValidationError({"position": "A whole number from 0 to 9999."})
        out["position"] = position
    if "property" in values:
        pid = values["property"]
        if pid is not None and (
            isinstance(pid, bool)
            or not isinstance(pid, int)
            or not Property.objects.filter(pk=pid).exists()
        ):
            raise ValidationError({"property": "Pick one of the group's hotels, or none."})
        out["property_id"] = pid
    for name, choices in (("category", Case.Category.values), ("priority", Case.Priority.values)):
        if name in values:
            value = values[name] or ""
            if value and value not in choices:
                raise ValidationError({name: f"{value!r} is not one of {', '.join(choices)}."})
            out[name] = value
    if "agents" in values or not partial:
        agents = values.get("agents")
        if (
            not isinstance(agents, list)
            or not agents
            or len(agents) > MAX_RULE_AGENTS
            or any(isinstance(a, bool) or not isinstance(a, int) for a in agents)
        ):
            raise ValidationError({"agents": "List the ids of the agents who take turns."})
        from tenants.users.models import User

        known = set(User.objects.filter(pk__in=agents, is_active=True).values_list("pk", flat=True))
        unknown = [a for a in agents if a not in known]
        if unknown:
            raise ValidationError({"agents": f"No active user has the id {unknown[0]}."})
        out["user_ids"] = list(dict.fromkeys(agents))
        out["next_index"] = 0
    if "active" in values:
        if not isinstance(values["active"], bool):
            raise ValidationError({"active": "true or false."})
        out["active"] = values["active"]
    return out


def assignment_rule_create(*, values: dict[str, Any], actor: Principal) -> AssignmentRule:
    actor.require("case_assignment_rule", "create")
    return AssignmentRule.objects.create(**_rule_values(values, partial=False))


def assignment_rule_update(
    *, rule: AssignmentRule, values: dict[str, Any], actor: Principal
) -> AssignmentRule:
    actor.require("case_assignment_rule", "edit")
    with transaction.atomic():
        rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        for name, value in _rule_values(values, partial=True).items():
            setattr(rule, name, value)
        rule.save()
    return rule


def assignment_rule_delete(*, rule: AssignmentRule, actor: Principal) -> None:
    actor.require("case_assignment_rule", "delete")
    rule.delete()


# --- merging duplicates ---------------------------------------------------------------


@transaction.atomic
def case_merge(*, duplicate: Case, primary: Case, actor: Principal) -> Case:
    """Fold ``duplicate`` into ``primary``: its messages with the guest, notes and tasks,
    and compensation move over; the duplicate is closed and remembers where it went.
    Both cases must be within the actor's reach; a case already merged, a case merged into
    itself, and two different guests' cases are refused (409)."""
    from crm.services.audit import event_record
    from crm.services.cases import case_update

    actor.require("case", "edit")
    if duplicate.pk == primary.pk:
        raise Conflict("A case cannot be merged into itself.", code="same_case", field="primary")
    # Lock both in id order, so two merges of the same pair cannot cross.
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(
        pk__in=sorted((duplicate.pk, primary.pk))
    ).order_by("pk")}  # fmt: skip
    if len(locked) != 2:
        raise Conflict("One of the cases is gone.", code="gone", field="primary")
    duplicate, primary = locked[duplicate.pk], locked[primary.pk]
    for case in (duplicate, primary):
        actor.require_record_in_scope("case", Case.objects.all(), case.pk)
    if CaseMerge.objects.filter(duplicate_id__in=(duplicate.pk, primary.pk)).exists():
        raise Conflict(
            "One of the cases was already merged into another.", code="merged", field="primary"
        )
    if duplicate.guest_id and primary.guest_id and duplicate.guest_id != primary.guest_id:
        raise Conflict(
            "The cases are about different guests.", code="different_guests", field="primary"
        )
    CaseMessage.objects.filter(case=duplicate).update(case=primary)
    Compensation.objects.filter(case=duplicate).update(case=primary)
    Activity.objects.filter(object_api_name="case", record_id=str(duplicate.pk)).update(
        record_id=str(primary.pk)
    )
    CaseMerge.objects.create(duplicate=duplicate, primary=primary, user_id=actor.user_id)
    fill: dict[str, Any] = {}
    if primary.guest_id is None and duplicate.guest_id is not None:
        fill["guest"] = duplicate.guest
    if primary.reservation_id is None and duplicate.reservation_id is not None:
        fill["reservation"] = duplicate.reservation
    if fill:
        primary = case_update(case=primary, actor=actor, **fill)
    if duplicate.status not in CLOSED:
        case_update(case=duplicate, status=Case.Status.CLOSED, actor=actor)
    event_record(
        object_api_name="case",
        record_id=primary.pk,
        action="update",
        user_id=actor.user_id,
        field="merged_from",
        new=str(duplicate.pk),
        announce=False,
    )
    return primary


# --- compensation -----------------------------------------------------------------------


def _amount(raw: Any, currency: str) -> Decimal:
    from metadata.currency import money_round

    if isinstance(raw, (bool, float)) or raw in (None, ""):
        raise ValidationError({"amount": 'Give the amount as a decimal string, e.g. "50.00".'})
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationError({"amount": f"{raw!r} is not an amount."}) from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("10000000000"):
        raise ValidationError({"amount": "A positive amount under 10,000,000,000."})
    return money_round(amount, currency)


@transaction.atomic
def compensation_request(
    *,
    case: Case,
    kind: str,
    actor: Principal,
    amount: Any = None,
    points: Any = None,
    note: str = "",
) -> Compensation:
    """Ask to give the guest something. Money is in the hotel's currency (the case must
    be at a hotel); points need the loyalty programme on and a guest on the case."""
    from metadata.services.modules import module_enabled

    actor.require("case_compensation", "create")
    actor.require_record_in_scope("case", Case.objects.all(), case.pk)
    if kind not in Compensation.Kind.values:
        raise ValidationError(
            {"kind": f"{kind!r} is not one of {', '.join(Compensation.Kind.values)}."}
        )
    note = (note or "").strip()
    if len(note) > 500 or "\x00" in note:
        raise ValidationError({"note": "Up to 500 characters."})
    values: dict[str, Any] = {}
    if kind == Compensation.Kind.POINTS:
        if amount not in (None, ""):
            raise ValidationError({"amount": "Points are given without an amount."})
        if not module_enabled("loyalty"):
            raise ValidationError({"kind": "Points need the loyalty programme switched on."})
        if case.guest_id is None:
            raise ValidationError({"kind": "Points need a guest on the case."})
        if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= 1_000_000:
            raise ValidationError({"points": "A whole number of points from 1 to 1,000,000."})
        values["points"] = points
    else:
        if points not in (None, ""):
            raise ValidationError({"points": "Only points compensation counts points."})
        hotel = case.property
        if hotel is None:
            raise ValidationError({"kind": "Money is given by a hotel: put the case at one."})
        currency = hotel.currency
        values.update(amount=_amount(amount, currency), currency=currency)
    return Compensation.objects.create(
        case=case, kind=kind, note=note, requested_by=actor.user_id, **values
    )


@transaction.atomic
def compensation_decide(
    *, compensation: Compensation, approve: bool, actor: Principal, note: str = ""
) -> Compensation:
    """Approve or reject a request (the right to edit compensation; an agent does not
    approve their own request unless an administrator). An approved points compensation
    is announced (``case_compensation`` approved), so the loyalty programme credits the
    member; the decision is final (409 on a second one)."""
    from crm.services.audit import event_record
    from metadata import events

    actor.require("case_compensation", "edit")
    compensation = Compensation.objects.select_for_update().get(pk=compensation.pk)
    actor.require_record_in_scope("case", Case.objects.all(), compensation.case_id)
    if compensation.status != Compensation.Status.REQUESTED:
        raise Conflict("This compensation was already decided.", code="decided", field="status")
    if (
        compensation.requested_by is not None
        and compensation.requested_by == actor.user_id
        and not actor.is_admin
    ):
        raise AccessDenied("Someone else approves what you asked for.", field="status")
    note = (note or "").strip()
    if len(note) > 500 or "\x00" in note:
        raise ValidationError({"note": "Up to 500 characters."})
    compensation.status = Compensation.Status.APPROVED if approve else Compensation.Status.REJECTED
    compensation.decided_by = actor.user_id
    compensation.decided_at = timezone.now()
    compensation.decision_note = note
    compensation.save()
    event_record(
        object_api_name="case",
        record_id=compensation.case_id,
        action="update",
        user_id=actor.user_id,
        field=f"compensation_{compensation.status}",
        new=str(compensation.pk),
        announce=False,
    )
    if approve:
        case = compensation.case
        events.record_event_emit(
            object_api_name="case_compensation",
            action=events.UPDATED,
            record_id=compensation.pk,
            old={"status": Compensation.Status.REQUESTED},
            new={
                "status": compensation.status,
                "kind": compensation.kind,
                "points": compensation.points,
                "amount": compensation.amount,
                "currency": compensation.currency,
                "case": case.pk,
                "guest": case.guest_id,
            },
            user_id=actor.user_id,
        )
    return compensation


def compensation_as_dict(compensation: Compensation) -> dict[str, Any]:
    return {
        "id": compensation.pk,
        "case": compensation.case_id,
        "kind": compensation.kind,
        "amount": None if compensation.amount is None else str(compensation.amount),
        "currency": compensation.currency or None,
        "points": compensation.points,
        "note": compensation.note,
        "status": compensation.status,
        "requested_by": compensation.requested_by,
        "decided_by": compensation.decided_by,
        "decided_at": compensation.decided_at,
        "decision_note": compensation.decision_note,
        "created_at": compensation.created_at,
    }
