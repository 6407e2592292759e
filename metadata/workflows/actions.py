"""The actions metadata itself provides: update a field, send an e-mail or an SMS from a
template in the recipient's language, call the outbound webhooks, assign an owner, wait.
crm adds its own (tasks, cases, tags) to the same registry."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.definitions import object_snapshot
from metadata.models import OutboxMessage, Record, Workflow
from metadata.workflows import registry, templating
from metadata.workflows.registry import ActionType, Outcome, RunContext
from tenants.context import current_tenant

LANGUAGES = frozenset(code for code, _ in settings.LANGUAGES)
FOOTER = {
    "en": "To stop receiving these messages: {url}",
    "zh-hans": "如不想再收到此类信息：{url}",
    "zh-hant": "如不想再收到此類訊息：{url}",
    "ja": "配信停止はこちら：{url}",
    "fr": "Pour ne plus recevoir ces messages : {url}",
    "de": "Keine weiteren Nachrichten erhalten: {url}",
    "es": "Para dejar de recibir estos mensajes: {url}",
    "pt": "Para deixar de receber estas mensagens: {url}",
}


def _fail(key: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({key: ValidationError(message, code=code)})


def _only(config: dict, allowed: set[str]) -> None:
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise _fail(unknown[0], f"{unknown[0]} is not a setting of this action.")


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return (
        value
        if isinstance(value, str | int | float | bool | type(None) | list | dict)
        else str(value)
    )


def tenant_languages() -> list[str]:
    tenant = current_tenant()
    return [getattr(tenant, "default_language", "") or "en", "en"]


def message_context(ctx: RunContext, language: str) -> dict:
    provider = registry.context_provider(ctx.object_api_name)
    context: dict[str, Any] = {}
    if ctx.record is not None:
        if provider is not None:
            context = provider(record=ctx.record, language=language)
        else:  # a tenant-defined object's record: its name and values
            data = getattr(ctx.record, "data", {}) or {}
            context = {
                "record": {"id": ctx.record.pk, "name": getattr(ctx.record, "name", ""), **data}
            }
    from metadata.models import WorkflowVersion
    from metadata.workflows.masking import context_masked, owner_principal

    workflow = Workflow.objects.filter(pk=ctx.workflow_id).first()
    author = (
        WorkflowVersion.objects.filter(pk=ctx.version_id).values_list("created_by_id", flat=True)
    ).first()
    context = context_masked(
        context, owner=owner_principal(author), object_api_name=ctx.object_api_name
    )
    context["workflow"] = {"name": getattr(workflow, "name", "")}
    from django.utils import timezone

    context["today"] = timezone.localdate()
    return context


# --- update a field -------------------------------------------------------------------


def _update_validate(config: dict, object_api_name: str) -> dict:
    _only(config, {"field", "value"})
    name = config.get("field")
    if not isinstance(name, str) or not name:
        raise _fail("field", "Name the field to set.", "required")
    if not object_api_name:
        raise _fail("field", "This workflow has no record to update.", "no_object")
    snap = object_snapshot(object_api_name)
    bare = name[len("custom.") :] if name.startswith("custom.") else name
    if bare in snap.active_fields:
        from metadata.services.values import custom_values_clean

        try:
            custom_values_clean(
                object_api_name=object_api_name,
                values={bare: config.get("value")},
                existing={},
                partial=True,
            )
        except ValidationError as exc:
            raise _fail("value", "; ".join(exc.messages), "value") from None
        return {"field": f"custom.{bare}", "value": config.get("value")}
    if snap.builtin is None:
        if name != "name":
            raise _fail(
                "field", f"{object_api_name} has no field {name!r} a workflow can set.", "field"
            )
        return {"field": name, "value": str(config.get("value") or "")}
    hook = registry.record_updater(object_api_name)
    if hook is None or name not in hook[1]:
        allowed = ", ".join(sorted(hook[1])) if hook else "none"
        raise _fail(
            "field",
            f"A workflow cannot set {object_api_name}.{name} (standard fields it "
            f"can set: {allowed}; or any custom field).",
            "field",
        )
    field = snap.model()._meta.get_field(name)
    choices = [str(c[0]) for c in getattr(field, "choices", None) or []]
    if choices and str(config.get("value")) not in choices:
        raise _fail(
            "value", f"{config.get('value')!r} is not one of {', '.join(choices)}.", "choice"
        )
    return {"field": name, "value": config.get("value")}


def _update_run(ctx: RunContext, config: dict) -> Outcome:
    if ctx.record is None:
        raise ValidationError({"record": "The record is gone."})
    name, value = config["field"], config["value"]
    custom_name = name[len("custom.") :] if name.startswith("custom.") else None
    snap = object_snapshot(ctx.object_api_name)
    if custom_name:
        old = (getattr(ctx.record, snap.values_column) or {}).get(custom_name)
    else:
        old = plain(getattr(ctx.record, name + ("_id" if name in _fk_names(ctx.record) else "")))
    detail = {"field": name, "from": plain(old), "to": value}
    if plain(old) == value:
        return Outcome(detail={**detail, "changed": False})
    if ctx.dry_run:
        if custom_name:
            from metadata.services.values import custom_values_clean

            custom_values_clean(
                object_api_name=ctx.object_api_name,
                values={custom_name: value},
                existing=getattr(ctx.record, snap.values_column),
                partial=True,
                record_id=ctx.record.pk,
            )
        return Outcome(detail=detail)
    if snap.builtin is None:
        from metadata.services.records import record_update

        record = cast(Record, ctx.record)
        if custom_name:
            record_update(record=record, data={custom_name: value}, actor=ctx.actor)
        else:
            record_update(record=record, name=value, actor=ctx.actor)
    else:
        hook = registry.record_updater(ctx.object_api_name)
        assert hook is not None  # validated when saved
        hook[0](
            record=ctx.record,
            values={} if custom_name else {name: value},
            custom={custom_name: value} if custom_name else None,
            actor=ctx.actor,
        )
    return Outcome(detail=detail)


def _fk_names(record) -> set[str]:
    return {f.name for f in record._meta.concrete_fields if f.many_to_one}


# --- messages ---------------------------------------------------------------------------


def _texts(config: dict, key: str, *, required: bool = True) -> dict[str, str]:
    texts = config.get(key)
    if texts is None and not required:
        return {}
    if isinstance(texts, str):
        texts = {"en": texts}
    if not isinstance(texts, dict) or not any(isinstance(v, str) and v for v in texts.values()):
        raise _fail(
            key, f'Give the {key} per language: {{"en": "...", "zh-hans": "..."}}.', "required"
        )
    for language, text in texts.items():
        if language not in LANGUAGES:
            raise _fail(key, f"{language} is not a supported language.", "language")
        if not isinstance(text, str):
            raise _fail(key, f"The {language} {key} must be text.")
        for variable in templating.template_variables(text):
            if (
                not templating.VARIABLE_RE.fullmatch(f"{{{{ {variable} }}}}")
                or variable.split(".")[0] not in templating.ROOTS
            ):
                raise _fail(
                    key,
                    f"Unknown variable {{{{ {variable} }}}}; variables start with "
                    f"{', '.join(sorted(templating.ROOTS))}.",
                    "variable",
                )
        if "{%" in text:
            raise _fail(
                key,
                "Templates substitute {{ variables }} only; {% tags %} are not allowed.",
                "template_tag",
            )
    return texts


def _message_validate(channel: str):
    def validate(config: dict, object_api_name: str) -> dict:
        keys = (
            {"subject", "body", "purpose", "to"}
            if channel == "email"
            else {"body", "purpose", "to"}
        )
        _only(config, keys)
        purpose = config.get("purpose", "service")
        if purpose not in ("service", "marketing"):
            raise _fail(
                "purpose",
                "The purpose is service or marketing (marketing needs the guest's opt-in).",
            )
        if not object_api_name or registry.recipient_resolver(object_api_name) is None:
            raise _fail(
                "to",
                f"Messages cannot be addressed from {object_api_name or 'no'} records.",
                "recipient",
            )
        out = {"purpose": purpose, "body": _texts(config, "body")}
        if channel == "email":
            out["subject"] = _texts(config, "subject")
        if config.get("to"):
            out["to"] = str(config["to"])
        return out

    return validate


def _message_run(channel: str):
    def run(ctx: RunContext, config: dict) -> Outcome:
        resolver = registry.recipient_resolver(ctx.object_api_name)
        recipient = (
            resolver(record=ctx.record, channel=channel, path=config.get("to", ""))
            if resolver and ctx.record is not None
            else None
        )
        if recipient is None or not recipient.address:
            return Outcome(
                detail={"reason": f"no {channel} address for this record"}, status="skipped"
            )
        checker = registry.consent_checker(recipient.subject_type)
        purpose = config["purpose"]
        if checker is None or not checker(recipient=recipient, channel=channel, purpose=purpose):
            return Outcome(
                detail={
                    "reason": "consent",
                    "recipient": recipient.address,
                    "message": f"{recipient.subject_type} {recipient.subject_id} has not "
                    f"agreed to {purpose} messages by {channel}.",
                },
                status="skipped",
            )
        language = templating.pick_language(
            config["body"], [recipient.language, *tenant_languages()]
        )
        from metadata.workflows.messaging import unsubscribe_token, unsubscribe_url

        url = unsubscribe_url(
            unsubscribe_token(
                subject_type=recipient.subject_type,
                subject_id=recipient.subject_id,
                channel=channel,
                purpose=purpose,
            )
        )
        context = {**message_context(ctx, language), "unsubscribe_url": url}
        body_template = config["body"].get(language) or ""
        body = templating.render(body_template, context, language=language)
        if "unsubscribe_url" not in body_template:
            footer = FOOTER.get(language, FOOTER["en"]).format(url=url)
            body = f"{body.rstrip()}\n\n{footer}" if channel == "email" else f"{body} {footer}"
        subject = ""
        if channel == "email":
            subject_lang = templating.pick_language(config["subject"], [language])
            subject = templating.render(
                config["subject"][subject_lang], context, language=language
            )[:300]
        detail = {
            "channel": channel,
            "recipient": recipient.address,
            "language": language,
            "subject": subject,
            "body": body,
        }
        if ctx.dry_run:
            return Outcome(detail=detail)
        from metadata.workflows.messaging import outbox_enqueue

        message = outbox_enqueue(
            channel=channel,
            run_id=ctx.run_id,
            object_api_name=ctx.object_api_name,
            record_id=ctx.record_id,
            recipient=recipient.address,
            language=language,
            subject=subject,
            body=body,
            headers={"List-Unsubscribe": f"<{url}>"} if channel == "email" else {},
        )
        return Outcome(detail={**detail, "outbox_id": message.pk})

    return run


# --- webhook --------------------------------------------------------------------------


WEBHOOK_EVENT_RE = re.compile(r"workflow\.[a-z][a-z0-9_]{0,59}")  # with fullmatch


def _webhook_validate(config: dict, object_api_name: str) -> dict:
    _only(config, {"event_type", "data"})
    event_type = config.get("event_type")
    # Always "workflow.<name>": a workflow must not pass for a record event such as
    # guest.created, which subscribers trust to come from the record's own writes.
    if not isinstance(event_type, str) or not WEBHOOK_EVENT_RE.fullmatch(event_type):
        raise _fail(
            "event_type",
            "Name the event workflow.<name> (lower-case letters, digits, underscores), "
            "e.g. workflow.guest_checked_out.",
            "required" if not event_type else "invalid",
        )
    data = config.get("data") or {}
    if not isinstance(data, dict) or len(json.dumps(data, default=str)) > 10_000:
        raise _fail("data", "Extra data is an object of key: value (at most 10 kB).")
    return {"event_type": event_type, "data": data}


def _webhook_run(ctx: RunContext, config: dict) -> Outcome:
    payload = {
        "workflow_id": ctx.workflow_id,
        "run_id": ctx.run_id,
        "object": ctx.object_api_name,
        "record_id": ctx.record_id,
        **config["data"],
    }
    detail = {"event_type": config["event_type"], "data": payload}
    if ctx.dry_run:
        return Outcome(detail=detail)
    try:
        from tenants.integrations.webhooks import webhook_event_publish
    except ImportError as exc:
        raise RuntimeError("Outbound webhooks are not available in this installation.") from exc
    # The run's object: only subscribers who may view it hear about its records.
    queued = webhook_event_publish(
        event_type=config["event_type"],
        object_api_name=ctx.object_api_name or None,
        data=payload,
    )
    return Outcome(detail={**detail, "deliveries": queued})


# --- assign an owner ----------------------------------------------------------------


def _active_users():
    from tenants.users.models import User

    return User.objects.filter(is_active=True)


def _owner_validate(config: dict, object_api_name: str) -> dict:
    _only(config, {"strategy", "users", "role", "field", "map", "default"})
    snap = object_snapshot(object_api_name) if object_api_name else None
    if snap is None or (
        snap.builtin is not None and registry.owner_setter(object_api_name) is None
    ):
        raise _fail(
            "strategy", f"{object_api_name or 'These'} records have no owner to assign.", "no_owner"
        )
    strategy = config.get("strategy", "round_robin")
    emails: list[str] = []
    if strategy == "round_robin":
        if bool(config.get("users")) == bool(config.get("role")):
            raise _fail(
                "users", "Give either users (e-mails) or a role to rotate through.", "required"
            )
        if config.get("role"):
            from tenants.access.models import Role

            if not Role.objects.filter(key=config["role"]).exists():
                raise _fail("role", f"There is no role {config['role']!r}.", "role")
            out = {"strategy": strategy, "role": config["role"]}
        else:
            emails = config["users"] if isinstance(config["users"], list) else []
            if not emails:
                raise _fail("users", "Give a list of e-mail addresses.")
            out = {"strategy": strategy, "users": [str(e).lower() for e in emails]}
    elif strategy == "by_field":
        from metadata.workflows.definition import field_kind

        field = config.get("field")
        if not isinstance(field, str) or field_kind(object_api_name, field) is None:
            raise _fail("field", f"{object_api_name} has no field {field!r}.", "field")
        mapping = config.get("map") or {}
        if not isinstance(mapping, dict):
            raise _fail("map", "Map field values to e-mail addresses: {value: e-mail}.")
        emails = [str(e).lower() for e in mapping.values()]
        if config.get("default"):
            emails.append(str(config["default"]).lower())
        out = {
            "strategy": strategy,
            "field": field,
            "map": {str(k): str(v).lower() for k, v in mapping.items()},
            "default": str(config.get("default") or "").lower(),
        }
    else:
        raise _fail("strategy", "The strategy is round_robin or by_field.")
    known = set(_active_users().filter(email__in=emails).values_list("email", flat=True))
    missing = sorted(set(emails) - known)
    if missing:
        raise _fail(
            "users" if strategy == "round_robin" else "map",
            f"No active user with the e-mail {missing[0]}.",
            "user",
        )
    return out


def _owner_pick(ctx: RunContext, config: dict, step_index: int) -> int | None:
    if config["strategy"] == "by_field":
        from metadata.workflows.conditions import field_value

        name = config["field"]
        values = {
            name: plain(
                getattr(ctx.record, name + ("_id" if name in _fk_names(ctx.record) else ""), None)
            )
        }
        if name not in values or values[name] is None:
            values = {
                "custom": getattr(
                    ctx.record, object_snapshot(ctx.object_api_name).values_column, {}
                )
            }
        email = config["map"].get(str(field_value(values, name)), config["default"])
        return _active_users().filter(email=email).values_list("pk", flat=True).first()
    users = _active_users().order_by("pk")
    if config.get("role"):
        users = users.filter(role_assignments__role__key=config["role"])
    else:
        users = users.filter(email__in=config["users"])
    candidates = list(users.values_list("pk", flat=True).distinct())
    if not candidates:
        return None
    key = f"round_robin:{ctx.version_id}:{step_index}"
    if ctx.dry_run:
        position = (Workflow.objects.get(pk=ctx.workflow_id).state or {}).get(key, 0)
        return candidates[position % len(candidates)]
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=ctx.workflow_id)
        position = (workflow.state or {}).get(key, 0)
        workflow.state = {**(workflow.state or {}), key: position + 1}
        workflow.save(update_fields=["state"])
    return candidates[position % len(candidates)]


def _owner_run(ctx: RunContext, config: dict) -> Outcome:
    if ctx.record is None:
        raise ValidationError({"record": "The record is gone."})
    user_id = _owner_pick(ctx, config, ctx.step_index)
    if user_id is None:
        return Outcome(detail={"reason": "no active user to assign"}, status="skipped")
    detail = {"owner_id": user_id, "strategy": config["strategy"]}
    if ctx.dry_run:
        return Outcome(detail=detail)
    setter = registry.owner_setter(ctx.object_api_name)
    if setter is not None:
        setter(record=ctx.record, user_id=user_id, actor=ctx.actor)
    else:
        from metadata.services.records import record_update

        record_update(record=cast(Record, ctx.record), owner_id=user_id, actor=ctx.actor)
    return Outcome(detail=detail)


# --- wait -----------------------------------------------------------------------------

WAIT_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


def _wait_validate(config: dict, object_api_name: str) -> dict:
    _only(config, set(WAIT_UNITS))
    seconds = 0
    for unit, factor in WAIT_UNITS.items():
        value = config.get(unit, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _fail(unit, f"{unit} is a whole number of zero or more.")
        seconds += value * factor
    if seconds <= 0 or seconds > 366 * 86400:
        raise _fail("days", "Wait between one minute and 366 days.", "range")
    return {k: config[k] for k in WAIT_UNITS if config.get(k)}


def _wait_run(ctx: RunContext, config: dict) -> Outcome:
    seconds = sum(config.get(unit, 0) * factor for unit, factor in WAIT_UNITS.items())
    return Outcome(detail={"seconds": seconds}, status="waiting", wait_seconds=seconds)


def register_builtin_actions() -> None:
    for action in (
        ActionType("update_field", "Update a field", _update_validate, _update_run),
        ActionType(
            "send_email",
            "Send an e-mail",
            _message_validate(OutboxMessage.Channel.EMAIL),
            _message_run(OutboxMessage.Channel.EMAIL),
        ),
        ActionType(
            "send_sms",
            "Send an SMS",
            _message_validate(OutboxMessage.Channel.SMS),
            _message_run(OutboxMessage.Channel.SMS),
        ),
        ActionType("webhook", "Call the outbound webhooks", _webhook_validate, _webhook_run),
        ActionType("assign_owner", "Assign an owner", _owner_validate, _owner_run),
        ActionType("wait", "Wait", _wait_validate, _wait_run),
    ):
        registry.action_register(action)
