"""Job kinds. Upper layers register their handlers (imports, index builds...) in
``AppConfig.ready()``. A handler takes the job and returns a JSON-able result.

Jobs are queued by the service that owns them (an import by the import service, an index
build by the field service), which checks the principal and builds the payload itself.
Only kinds registered ``startable`` (they take no file, path or user from the caller) may
be started by an administrator through ``POST /api/v1/jobs/``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobHandler = Callable[[Any], dict]


@dataclass(frozen=True)
class JobKind:
    handler: JobHandler
    startable: bool = False


_kinds: dict[str, JobKind] = {}


def register_job_kind(kind: str, handler: JobHandler, *, startable: bool = False) -> None:
    _kinds[kind] = JobKind(handler=handler, startable=startable)


def job_handler(kind: str) -> JobHandler | None:
    found = _kinds.get(kind)
    return found.handler if found else None


def job_kinds(*, startable: bool | None = None) -> list[str]:
    return sorted(k for k, v in _kinds.items() if startable is None or v.startable == startable)
