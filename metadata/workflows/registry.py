"""What the engine can do and how it reaches records it does not own.

metadata knows nothing about crm. crm registers, in ``AppConfig.ready()``:

- actions (``action_register``) such as creating a task or a case, or tagging a guest;
- how to write a field on each of its objects (``record_updater_register``), so that an
  "update a field" step goes through crm's services and their rules;
- who owns a record (``owner_setter_register``) for "assign an owner" steps;
- related-record paths for conditions and templates (``relation_register``: a
  reservation's ``guest``);
- who receives a message about a record (``recipient_resolver_register``): the guest of a
  reservation, with address, language and consent;
- the template variables of a record (``context_provider_register``), an allowlist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass
class RunContext:
    """What an action sees: the run's record and event, and whether it is a dry run."""

    workflow_id: int
    version_id: int
    run_id: int | None
    object_api_name: str
    record_id: str
    record: models.Model | None
    event: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    user_id: int | None = None
    step_index: int = 0

    @property
    def actor(self):
        """Who a run's writes act as: the platform, named by the workflow -- workflows
        are defined by administrators, and run whoever triggered them."""
        from tenants.access.principal import Principal

        return Principal.system(f"workflow {self.workflow_id} v{self.version_id}")


class TransientError(Exception):
    """An action failed for a reason that may pass (a service away, a lock timeout):
    the run is retried from this step."""


@dataclass
class Outcome:
    """What a step did (or, in a dry run, would do). ``status`` is succeeded or skipped;
    ``wait_seconds`` pauses the run before the next step."""

    detail: dict[str, Any]
    status: str = "succeeded"
    wait_seconds: float | None = None


@dataclass(frozen=True)
class ActionType:
    key: str
    label: str
    # validate(config, object_api_name) -> cleaned config; raises ValidationError keyed
    # by the setting's name.
    validate: Callable[[dict, str], dict]
    # run(ctx, config) -> Outcome; writes nothing when ctx.dry_run.
    run: Callable[[RunContext, dict], Outcome]
    # Objects it applies to (empty: any).
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """``object.name`` leads to a record of ``target`` whose id is in ``column``."""

    object_api_name: str
    name: str
    target: str
    column: str


@dataclass(frozen=True)
class Recipient:
    subject_type: str  # "guest"
    subject_id: int
    address: str  # e-mail address or E.164 phone
    language: str
    name: str = ""


RecordUpdater = Callable[..., models.Model]  # (record=, values=, custom=) -> record
OwnerSetter = Callable[..., models.Model]  # (record=, user_id=) -> record
RecipientResolver = Callable[..., "Recipient | None"]  # (record=, channel=, path=)
ConsentChecker = Callable[..., bool]  # (recipient=, channel=, purpose=)
ContextProvider = Callable[..., dict]  # (record=, language=) -> plain values

_actions: dict[str, ActionType] = {}
_updaters: dict[str, tuple[RecordUpdater, frozenset[str]]] = {}
_owners: dict[str, OwnerSetter] = {}
_relations: dict[tuple[str, str], Relation] = {}
_recipients: dict[str, RecipientResolver] = {}
_consent: dict[str, ConsentChecker] = {}
_contexts: dict[str, ContextProvider] = {}
# Named events an upper layer raises about a record of an object ("case_sla_breached" on
# case): name -> (object api_name, label). Workflows trigger on them with
# {"type": "event", "event": name}.
_events: dict[str, tuple[str, str]] = {}


def event_trigger_register(name: str, *, object_api_name: str, label: str) -> None:
    _events[name] = (object_api_name, label)


def event_triggers() -> dict[str, tuple[str, str]]:
    return dict(_events)


def action_register(action: ActionType) -> None:
    _actions[action.key] = action


def action_types() -> dict[str, ActionType]:
    return dict(_actions)


def record_updater_register(
    object_api_name: str, updater: RecordUpdater, *, fields: tuple[str, ...]
) -> None:
    """``fields``: the standard fields a workflow may set on this object."""
    _updaters[object_api_name] = (updater, frozenset(fields))


def record_updater(object_api_name: str) -> tuple[RecordUpdater, frozenset[str]] | None:
    return _updaters.get(object_api_name)


def owner_setter_register(object_api_name: str, setter: OwnerSetter) -> None:
    _owners[object_api_name] = setter


def owner_setter(object_api_name: str) -> OwnerSetter | None:
    return _owners.get(object_api_name)


def relation_register(relation: Relation) -> None:
    _relations[(relation.object_api_name, relation.name)] = relation


def relation(object_api_name: str, name: str) -> Relation | None:
    return _relations.get((object_api_name, name))


def relations_of(object_api_name: str) -> list[Relation]:
    return [r for (obj, _), r in _relations.items() if obj == object_api_name]


def recipient_resolver_register(object_api_name: str, resolver: RecipientResolver) -> None:
    _recipients[object_api_name] = resolver


def recipient_resolver(object_api_name: str) -> RecipientResolver | None:
    return _recipients.get(object_api_name)


def consent_checker_register(subject_type: str, checker: ConsentChecker) -> None:
    _consent[subject_type] = checker


def consent_checker(subject_type: str) -> ConsentChecker | None:
    return _consent.get(subject_type)


def context_provider_register(object_api_name: str, provider: ContextProvider) -> None:
    _contexts[object_api_name] = provider


def context_provider(object_api_name: str) -> ContextProvider | None:
    return _contexts.get(object_api_name)
