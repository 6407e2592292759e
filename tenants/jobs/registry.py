"""Job kinds. Upper layers register their handlers (imports, index builds...) in
``AppConfig.ready()``. A handler takes the job and returns a JSON-able result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JobHandler = Callable[[Any], dict]

_handlers: dict[str, JobHandler] = {}


def register_job_kind(kind: str, handler: JobHandler) -> None:
    _handlers[kind] = handler


def job_handler(kind: str) -> JobHandler | None:
    return _handlers.get(kind)


def job_kinds() -> list[str]:
    return sorted(_handlers)
