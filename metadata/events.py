"""Record events: the one place every write announces itself.

Services of every app (the CRM's built-in objects, the generic records of tenant-defined
objects) call :func:`record_event_emit` inside their transaction, after the write. Anyone
interested (outbound webhooks, workflows) subscribes once at start-up with
:func:`record_event_subscribe`. Handlers run inside the writer's transaction, so what they
store rolls back with it; anything that leaves the database is theirs to defer with
``transaction.on_commit``.

``event_origin`` tells handlers who caused the write: a workflow run sets it so that its
own updates cannot retrigger the same workflow endlessly.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
MERGED = "merged"
ERASED = "erased"
ACTIONS = (CREATED, UPDATED, DELETED, MERGED, ERASED)


_PLAIN = (str, int, float, bool, type(None))


def json_plain(value: Any) -> Any:
    """The value as plain JSON types (dates as ISO strings, decimals as strings), as a
    round trip through Django's JSON encoder gives it. Lists and string-keyed objects
    are walked without the round trip (most of an event or audit row is plain)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list | tuple):
        return [json_plain(item) for item in value]
    if isinstance(value, dict) and all(type(key) is str for key in value):
        return {key: json_plain(item) for key, item in value.items()}
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return json_plain(dict(values))


@dataclass(frozen=True)
class RecordEvent:
    object_api_name: str
    action: str
    record_id: str
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None
    # Set while a workflow (or any other automated writer) acts: {"workflow": 7, ...}.
    origin: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> frozenset[str]:
        """Fields whose value differs between ``old`` and ``new``."""
        names = set(self.old) | set(self.new)
        return frozenset(n for n in names if self.old.get(n) != self.new.get(n))


Handler = Callable[[RecordEvent], None]
_handlers: list[Handler] = []
_origin: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "atrium_event_origin", default=None
)


def record_event_subscribe(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


@contextmanager
def event_origin(**origin: Any) -> Iterator[None]:
    """Mark every event emitted inside the block as caused by ``origin``."""
    token = _origin.set({**(_origin.get() or {}), **origin})
    try:
        yield
    finally:
        _origin.reset(token)


def current_origin() -> dict[str, Any]:
    return dict(_origin.get() or {})


def record_event_emit(
    *,
    object_api_name: str,
    action: str,
    record_id: Any,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    user_id: int | None = None,
) -> RecordEvent | None:
    """Tell every subscriber that a record changed. Nothing happens for an update that
    changed nothing."""
    event = RecordEvent(
        object_api_name=object_api_name,
        action=action,
        record_id=str(record_id),
        old=_plain(old or {}),
        new=_plain(new or {}),
        user_id=user_id,
        origin=current_origin(),
    )
    if action == UPDATED and not event.changed:
        return None
    for handler in list(_handlers):
        handler(event)
    return event
