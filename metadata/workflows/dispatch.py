"""Queueing metadata's background work by task name.

The engine and the messaging outbox hand work to Celery through ``task_send``; the task
module (``metadata.tasks``) calls the engine. Naming the task instead of importing it
keeps the dependency one way: tasks → engine/messaging → dispatch.

With ``ATRIUM_WORKFLOWS_INLINE`` (tests and a stack without a worker) the work runs in
the calling process through the handler its module registered here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)

_inline: dict[str, Callable[..., Any]] = {}
_retryable: list[type[BaseException]] = []


def inline_register(
    name: str, handler: Callable[..., Any], *, retryable: tuple[type[BaseException], ...] = ()
) -> None:
    """What runs in-process for task ``name``; ``retryable`` failures are left for the
    scheduler's sweep, as a worker's retry would be."""
    _inline[name] = handler
    _retryable.extend(e for e in retryable if e not in _retryable)


def task_send(name: str, *args: Any, countdown: float | None = None) -> None:
    """Queue ``metadata.tasks.<name>`` in the current tenant's schema (the Celery app adds
    the schema header). Inline, delayed work is left for the scheduler's sweep."""
    if settings.ATRIUM_WORKFLOWS_INLINE:
        if countdown:
            return
        try:
            _inline[name](*args)
        except tuple(_retryable):
            log.info("inline %s %s left for a retry", name, args)
        return
    current_app.send_task(f"metadata.tasks.{name}", args=list(args), countdown=countdown)
