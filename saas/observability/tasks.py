"""Celery task metrics and log context from Celery's signals (connected by
``saas.celery``), so no task has to know about them. Runs in the worker process that
executes the task; an eagerly applied task (tests, ``task.apply()``) counts in the
calling process."""

from __future__ import annotations

import time

from celery import signals

from saas.observability import logs, metrics

# task id -> (start, log context token); the postrun signal of the same task closes it.
_running: dict[str, tuple[float, object]] = {}


def _name(task) -> str:
    return getattr(task, "name", None) or "unknown"


@signals.task_prerun.connect(dispatch_uid="atrium-metrics-prerun")
def _task_prerun(task_id=None, task=None, **_kwargs) -> None:
    token = logs.task_id_var.set(task_id or "")
    _running[task_id or ""] = (time.perf_counter(), token)


@signals.task_postrun.connect(dispatch_uid="atrium-metrics-postrun")
def _task_postrun(task_id=None, task=None, state=None, **_kwargs) -> None:
    started, token = _running.pop(task_id or "", (None, None))
    name = _name(task)
    if started is not None:
        metrics.TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)
    metrics.TASKS.labels(task=name, state=state or "UNKNOWN").inc()
    if token is not None:
        try:
            logs.task_id_var.reset(token)  # type: ignore[arg-type]
        except ValueError:  # set in another context (a thread pool): just clear it
            logs.task_id_var.set("")


@signals.task_failure.connect(dispatch_uid="atrium-metrics-failure")
def _task_failure(sender=None, exception=None, **_kwargs) -> None:
    metrics.TASK_FAILURES.labels(
        task=_name(sender), exception=type(exception).__name__ if exception else "unknown"
    ).inc()


@signals.worker_ready.connect(dispatch_uid="atrium-metrics-worker-server")
def _worker_metrics_server(**_kwargs) -> None:
    """A worker has no web server: with ``ATRIUM_WORKER_METRICS_PORT`` set its main
    process serves its metrics (all pool processes' with PROMETHEUS_MULTIPROC_DIR) on
    that port for Prometheus inside the private network."""
    from django.conf import settings

    port = getattr(settings, "ATRIUM_WORKER_METRICS_PORT", 0)
    if not port:
        return
    from prometheus_client import start_http_server

    start_http_server(
        port,
        addr=getattr(settings, "ATRIUM_WORKER_METRICS_ADDR", "0.0.0.0"),  # noqa: S104
        registry=metrics.exposition_registry(scrape_time=False),
    )
