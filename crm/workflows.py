"""What crm brings to the workflow engine (registered in ``CrmConfig.ready()``):
related-record paths, field writers through crm's services, case owners, message
recipients with their consent, the template variables of each object (an allowlist),
and the actions create a task, create a case, add and remove a tag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from metadata.workflows import registry, templating
from metadata.workflows.registry import ActionType, Outcome, Recipient, Relation, RunContext

# Standard fields a workflow may set, per object (custom fields always may).
UPDATABLE = {
    "guest": ("vip_level", "customer_type", "language", "nationality", "tags"),
    "reservation": ("status", "channel", "market_code", "source_of_business"),
    "case": ("status", "priority", "category", "kind", "deadline", "description"),
}


def _guest_of(record: models.Model | None, path: str = ""):
    from crm.models import Case, Guest, Reservation

    if record is None:
        return None
    if isinstance(record, Guest):
        return record
    if isinstance(record, Reservation):
        return record.booker_guest if path == "booker_guest" else record.guest
    if isinstance(record, Case):
        return record.guest
    return None


# --- field writers and owners ---------------------------------------------------------


def _guest_update(*, record, values: dict, actor, custom: dict | None = None):
    from crm.services.guests import guest_update

    return guest_update(guest=record, custom=custom, actor=actor, **values)


def _reservation_update(*, record, values: dict, actor, custom: dict | None = None):
    from crm.services.reservations import reservation_status_change, reservation_update

    values = dict(values)
    status = values.pop("status", None)
    if values or custom is not None:
        record = reservation_update(reservation=record, custom=custom, actor=actor, **values)
    if status is not None and status != record.status:
        record = reservation_status_change(reservation=record, status=status, actor=actor)
    return record


def _case_update(*, record, values: dict, actor, custom: dict | None = None):
    from crm.services.cases import case_update

    return case_update(case=record, custom=custom, actor=actor, **values)


def _case_owner(*, record, user_id: int, actor):
    from crm.services.cases import case_update
    from tenants.users.models import User

    return case_update(case=record, owner=User.objects.get(pk=user_id), actor=actor)


# --- recipients and consent -----------------------------------------------------------


def _recipient(*, record, channel: str, path: str = "") -> Recipient | None:
    guest = _guest_of(record, path)
    if guest is None or guest.erased_at is not None:
        return None
    address = guest.email if channel == "email" else guest.phone
    return Recipient(
        subject_type="guest",
        subject_id=guest.pk,
        address=address or "",
        language=guest.language or "",
        name=guest.full_name,
    )


def guest_message_allowed(*, recipient: Recipient, channel: str, purpose: str) -> bool:
    """Marketing needs the guest's opt-in on the channel; service messages (pre-arrival,
    post-stay) go unless the guest opted out of them (the unsubscribe link does that)."""
    from crm.selectors.guests import guest_consent_state

    state = guest_consent_state(guest_id=recipient.subject_id, channel=channel, purpose=purpose)
    return state is True if purpose == "marketing" else state is not False


def guest_consent_given(*, subject_id, channel: str, purpose: str) -> bool:
    from crm.selectors.guests import guest_consent_state

    return guest_consent_state(guest_id=subject_id, channel=channel, purpose=purpose) is True


# --- template variables (an allowlist of plain values) --------------------------------


def _custom_public(object_api_name: str, values: dict) -> dict:
    from metadata.definitions import object_snapshot

    fields = object_snapshot(object_api_name).active_fields
    return {k: v for k, v in (values or {}).items() if k in fields and not fields[k].sensitive}


def _guest_vars(guest) -> dict:
    if guest is None:
        return {}
    return {
        "id": guest.pk,
        "first_name": guest.given_name,
        "given_name": guest.given_name,
        "surname": guest.surname,
        "last_name": guest.surname,
        "name_prefix": guest.name_prefix,
        "full_name": guest.full_name,
        "language": guest.language,
        "vip_level": guest.vip_level,
        "customer_type": guest.customer_type,
        "stays": guest.stays,
        "last_stay": guest.last_stay,
        "tags": ", ".join(guest.tags or []),
        "custom": _custom_public("guest", guest.custom),
    }


def _property_vars(prop, language: str) -> dict:
    if prop is None:
        return {}
    name = getattr(prop, f"name_{language.replace('-', '_')}", None) or prop.name
    return {
        "id": prop.pk,
        "name": name,
        "code": prop.code,
        "city": prop.city,
        "country": prop.country,
    }


def _guest_context(*, record, language: str) -> dict:
    guest = _guest_vars(record)
    return {"record": guest, "guest": guest}


def _reservation_context(*, record, language: str) -> dict:
    hotel = _property_vars(record.property, language)
    return {
        "record": {
            "id": record.pk,
            "confirmation_number": record.confirmation_number,
            "status": record.status,
            "arrival": record.arrival,
            "departure": record.departure,
            "nights": record.nights,
            "adults": record.adults,
            "children": record.children,
            "channel": record.channel,
            "total_amount": record.total_amount,
            "currency": record.currency,
            "custom": _custom_public("reservation", record.custom),
        },
        "guest": _guest_vars(record.guest),
        "property": hotel,
        "hotel": hotel,
    }


def _case_context(*, record, language: str) -> dict:
    hotel = _property_vars(record.property, language)
    return {
        "record": {
            "id": record.pk,
            "subject": record.subject,
            "kind": record.kind,
            "category": record.category,
            "priority": record.priority,
            "status": record.status,
            "deadline": record.deadline,
            "custom": _custom_public("case", record.custom),
        },
        "guest": _guest_vars(record.guest),
        "property": hotel,
        "hotel": hotel,
    }


# --- actions ----------------------------------------------------------------------------


def _fail(key: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({key: ValidationError(message, code=code)})


def _text(config: dict, key: str, *, required: bool, limit: int) -> Any:
    value = config.get(key)
    if value in (None, "") and not required:
        return ""
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or not any(isinstance(v, str) and v for v in value.values()):
        raise _fail(key, f"Give the {key} as text (or per language).", "required")
    for text in value.values():
        if not isinstance(text, str) or len(text) > limit:
            raise _fail(key, f"The {key} is text of at most {limit} characters.")
        for variable in templating.template_variables(text):
            if (
                not templating.VARIABLE_RE.fullmatch(f"{{{{ {variable} }}}}")
                or variable.split(".")[0] not in templating.ROOTS
            ):
                raise _fail(key, f"Unknown variable {{{{ {variable} }}}}.", "variable")
    return value


def _assignee_clean(config: dict) -> dict:
    from tenants.access.models import Role
    from tenants.users.models import User

    out: dict[str, Any] = {}
    if config.get("assign_to"):
        email = str(config["assign_to"]).lower()
        if not User.objects.filter(email=email, is_active=True).exists():
            raise _fail("assign_to", f"No active user with the e-mail {email}.", "user")
        out["assign_to"] = email
    elif config.get("role"):
        if not Role.objects.filter(key=config["role"]).exists():
            raise _fail("role", f"There is no role {config['role']!r}.", "role")
        out["role"] = config["role"]
    return out


def _assignee(config: dict):
    """The named user, or the member of the role with the fewest open tasks."""
    from tenants.users.models import User

    if config.get("assign_to"):
        return User.objects.filter(email=config["assign_to"], is_active=True).first()
    if config.get("role"):
        return (
            User.objects.filter(is_active=True, role_assignments__role__key=config["role"])
            .annotate(
                open_tasks=models.Count(
                    "assigned_activities",
                    filter=models.Q(
                        assigned_activities__kind="task", assigned_activities__completed_at=None
                    ),
                )
            )
            .order_by("open_tasks", "pk")
            .first()
        )
    return None


def _rendered(ctx: RunContext, texts: Any) -> str:
    if not texts:
        return ""
    from metadata.workflows.actions import message_context, tenant_languages

    language = templating.pick_language(texts, tenant_languages())
    return templating.render(texts[language], message_context(ctx, language), language=language)


def _task_validate(config: dict, object_api_name: str) -> dict:
    unknown = sorted(set(config) - {"subject", "body", "due_in_hours", "assign_to", "role"})
    if unknown:
        raise _fail(unknown[0], f"{unknown[0]} is not a setting of create_task.")
    due = config.get("due_in_hours")
    if due is not None and (
        isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= 8784
    ):
        raise _fail("due_in_hours", "Give whole hours from 0 to 8784.")
    if not object_api_name:
        raise _fail("subject", "A task is logged against the workflow's record.", "no_object")
    return {
        "subject": _text(config, "subject", required=True, limit=200),
        "body": _text(config, "body", required=False, limit=5000),
        **({"due_in_hours": due} if due is not None else {}),
        **_assignee_clean(config),
    }


def _task_run(ctx: RunContext, config: dict) -> Outcome:
    subject = _rendered(ctx, config["subject"])[:200]
    body = _rendered(ctx, config.get("body"))
    due = (
        timezone.now() + timedelta(hours=config["due_in_hours"])
        if "due_in_hours" in config
        else None
    )
    assignee = _assignee(config)
    detail = {
        "subject": subject,
        "body": body,
        "due_at": due.isoformat() if due else None,
        "assignee": getattr(assignee, "email", None),
    }
    if ctx.dry_run:
        return Outcome(detail=detail)
    from crm.services.activities import activity_create

    task = activity_create(
        object_api_name=ctx.object_api_name,
        record_id=ctx.record_id,
        kind="task",
        subject=subject,
        body=body,
        due_at=due,
        assignee=assignee,
        actor=ctx.actor,
    )
    return Outcome(detail={**detail, "task_id": task.pk})


def _case_validate(config: dict, object_api_name: str) -> dict:
    from crm.models import Case

    allowed = {
        "subject",
        "description",
        "kind",
        "category",
        "priority",
        "deadline_in_hours",
        "assign_to",
        "role",
    }
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise _fail(unknown[0], f"{unknown[0]} is not a setting of create_case.")
    out: dict[str, Any] = {
        "subject": _text(config, "subject", required=True, limit=200),
        "description": _text(config, "description", required=False, limit=5000),
    }
    for key, choices, default in (
        ("kind", Case.Kind.values, "request"),
        ("category", Case.Category.values, "other"),
        ("priority", Case.Priority.values, "normal"),
    ):
        value = config.get(key, default)
        if value not in choices:
            raise _fail(key, f"{value!r} is not one of {', '.join(choices)}.", "choice")
        out[key] = value
    hours = config.get("deadline_in_hours")
    if hours is not None:
        if isinstance(hours, bool) or not isinstance(hours, int) or not 0 < hours <= 8784:
            raise _fail("deadline_in_hours", "Give whole hours from 1 to 8784.")
        out["deadline_in_hours"] = hours
    return {**out, **_assignee_clean(config)}


def _case_run(ctx: RunContext, config: dict) -> Outcome:
    from crm.models import Case, Guest, Reservation

    record = ctx.record
    guest = _guest_of(record)
    reservation = (
        record if isinstance(record, Reservation) else getattr(record, "reservation", None)
    )
    subject = _rendered(ctx, config["subject"])[:200]
    hours = config.get("deadline_in_hours")
    deadline = timezone.now() + timedelta(hours=hours) if hours else None
    owner = _assignee(config)
    detail = {
        "subject": subject,
        "kind": config["kind"],
        "category": config["category"],
        "priority": config["priority"],
        "guest_id": getattr(guest, "pk", None),
        "deadline": deadline.isoformat() if deadline else None,
        "owner": getattr(owner, "email", None),
    }
    if ctx.dry_run:
        return Outcome(detail=detail)
    from crm.services.cases import case_create

    case = case_create(
        subject=subject,
        description=_rendered(ctx, config.get("description")),
        kind=config["kind"],
        category=config["category"],
        priority=config["priority"],
        guest=guest if isinstance(guest, Guest) else None,
        reservation=reservation if isinstance(reservation, Reservation) else None,
        property=getattr(record, "property", None)
        if not isinstance(record, Case | Guest)
        else None,
        owner=owner,
        deadline=deadline,
        channel="workflow",
        actor=ctx.actor,
    )
    return Outcome(detail={**detail, "case_id": case.pk})


def _tag_validate(config: dict, object_api_name: str) -> dict:
    unknown = sorted(set(config) - {"tag"})
    if unknown:
        raise _fail(unknown[0], f"{unknown[0]} is not a setting of this action.")
    tag = config.get("tag")
    if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > 50:
        raise _fail("tag", "Give a tag of 1-50 characters.", "required")
    return {"tag": tag.strip().lower()}


def _tag_run(add: bool):
    def run(ctx: RunContext, config: dict) -> Outcome:
        guest = _guest_of(ctx.record)
        if guest is None:
            return Outcome(detail={"reason": "no guest"}, status="skipped")
        guest.refresh_from_db()
        tags = set(guest.tags or [])
        new = tags | {config["tag"]} if add else tags - {config["tag"]}
        detail = {
            "guest_id": guest.pk,
            "tag": config["tag"],
            "tags": sorted(new),
            "changed": new != tags,
        }
        if ctx.dry_run or new == tags:
            return Outcome(detail=detail)
        from crm.services.guests import guest_update

        guest_update(guest=guest, tags=sorted(new), actor=ctx.actor)
        return Outcome(detail=detail)

    return run


def register() -> None:
    for relation in (
        Relation("reservation", "guest", "guest", "guest_id"),
        Relation("reservation", "booker_guest", "guest", "booker_guest_id"),
        Relation("reservation", "property", "property", "property_id"),
        Relation("reservation", "booker_company", "company", "booker_company_id"),
        Relation("case", "guest", "guest", "guest_id"),
        Relation("case", "reservation", "reservation", "reservation_id"),
        Relation("case", "property", "property", "property_id"),
    ):
        registry.relation_register(relation)
    for name, updater in (
        ("guest", _guest_update),
        ("reservation", _reservation_update),
        ("case", _case_update),
    ):
        registry.record_updater_register(name, updater, fields=UPDATABLE[name])
    registry.owner_setter_register("case", _case_owner)
    for name in ("guest", "reservation", "case"):
        registry.recipient_resolver_register(name, _recipient)
    registry.consent_checker_register("guest", guest_message_allowed)
    registry.context_provider_register("guest", _guest_context)
    registry.context_provider_register("reservation", _reservation_context)
    registry.context_provider_register("case", _case_context)
    guest_records = ("guest", "reservation", "case")
    for action in (
        ActionType("create_task", "Create a task", _task_validate, _task_run),
        ActionType("create_case", "Create a case", _case_validate, _case_run, guest_records),
        ActionType("add_tag", "Tag the guest", _tag_validate, _tag_run(True), guest_records),
        ActionType("remove_tag", "Untag the guest", _tag_validate, _tag_run(False), guest_records),
    ):
        registry.action_register(action)

    from tenants.access.consent import consent_checker_register

    consent_checker_register("guest", guest_consent_given)
