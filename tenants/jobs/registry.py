"""Job kinds. Upper layers register their handlers (imports, index builds...) in
``AppConfig.ready()``. A handler takes the job and returns a JSON-able result.

Jobs are queued by the service that owns them (an import by the import service, an index
build by the field service), which checks the principal and builds the payload itself.
Only kinds registered ``startable`` (they take no file, path or user from the caller) may
be started by an administrator through ``POST /api/v1/jobs/``.

A handler may run more than once for the same job (its worker died, the message came
again): it must skip what an earlier run committed. ``abandoned`` is called when a job
is given up for good without its handler finishing (its workers kept dying), so the kind
can leave its own state truthful (an index build marks its field failed).

Upper layers also register *sweepers*: callables the per-tenant sweep (beat) runs to
queue again or fail their own work left behind by dead workers (workflow runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobHandler = Callable[[Any], dict]


@dataclass(frozen=True)
class JobKind:
    handler: JobHandler
    startable: bool = False
    abandoned: Callable[[Any], None] | None = None


_kinds: dict[str, JobKind] = {}
_sweepers: dict[str, Callable[[], dict]] = {}


def register_job_kind(
    kind: str,
    handler: JobHandler,
    *,
    startable: bool = False,
    abandoned: Callable[[Any], None] | None = None,
) -> None:
    _kinds[kind] = JobKind(handler=handler, startable=startable, abandoned=abandoned)


def job_handler(kind: str) -> JobHandler | None:
    found = _kinds.get(kind)
    return found.handler if found else None


def job_abandoned_hook(kind: str) -> Callable[[Any], None] | None:
    found = _kinds.get(kind)
    return found.abandoned if found else None


def job_kinds(*, startable: bool | None = None) -> list[str]:
    return sorted(k for k, v in _kinds.items() if startable is None or v.startable == startable)


def register_sweeper(name: str, sweeper: Callable[[], dict]) -> None:
    """``sweeper()`` runs in a tenant's schema and returns counts for the log."""
    _sweepers[name] = sweeper


def sweepers() -> dict[str, Callable[[], dict]]:
    return dict(_sweepers)
