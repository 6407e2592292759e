"""Workflow throughput and the delay from commit to action, with two real Celery worker
processes (solo pool each) on the configured broker (Redis when CELERY_BROKER_URL is
set, else the filesystem transport in a folder of its own).

1. Throughput: N guest updates commit while the workers are stopped (N queued runs);
   then the workers start and drain them. Triggers handled per second = N / (last run
   finished - first run started). Each run checks the tenant's cap, claims the run,
   evaluates conditions, tags the guest through crm's service (audit rows, event) and
   logs two steps. Baseline: the same tag update as one UPDATE + COMMIT per guest
   through psycopg.
2. Delay: with the workers idle, single updates a few hundred milliseconds apart; the
   delay is from the run's row (written in the committing transaction) to the action's
   log row."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psycopg
from django_tenants.utils import tenant_context

from saas.bench import REPO, Figure, bench_tenant, p50, p95
from saas.bench.api import _conninfo
from tenants.access.principal import Principal

BENCH = Principal.system("benchmark")

TRIGGERS = {"small": 2000, "large": 10000}
DELAY_SAMPLES = 40


def _tenant():
    return bench_tenant("benchwf", "Workflow Bench")


def _workers(count: int) -> list[subprocess.Popen]:
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        # The cap is measured by the tests; here the engine's own speed is.
        "ATRIUM_WORKFLOW_RATE_PER_SECOND": "1000000",
        "ATRIUM_WORKFLOW_BURST": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    procs = []
    for index in range(count):
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "saas", "worker", "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
             "-n", f"bench{index}-{os.getpid()}@%h"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        ready = threading.Event()

        def pump(stream=proc.stdout, ready=ready):
            for line in stream:
                if "ready." in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(120):
            raise RuntimeError("a benchmark worker did not start")
        procs.append(proc)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_done(workflow, count: int, timeout: float) -> None:
    from metadata.models import WorkflowRun

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = WorkflowRun.objects.filter(
            workflow=workflow, status__in=["succeeded", "failed", "skipped"]
        ).count()
        if done >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {done} of {count} workflow runs finished in {timeout:.0f} s")


def run(log) -> list[Figure]:
    from django.db.models import Max, Min

    from crm.models import Guest
    from crm.services.guests import guest_create, guest_update
    from metadata.models import Workflow, WorkflowRun, WorkflowRunStep
    from metadata.services.workflows import workflow_create

    count = TRIGGERS[os.environ.get("BENCH_SCALE", "small")]
    tenant = _tenant()
    with tenant_context(tenant):
        log(f"workflows: {count} guests")
        existing = Guest.objects.count()
        for i in range(existing, count + DELAY_SAMPLES):
            guest_create(given_name=f"Wf{i}", surname="Bench", actor=BENCH)
        Workflow.objects.filter(
            key="bench_vip"
        ).delete() if not WorkflowRun.objects.exists() else None
        workflow = Workflow.objects.filter(key="bench_vip").first() or workflow_create(
            key="bench_vip", name="Bench VIP", object_api_name="guest",
            trigger={"type": "record_updated", "fields": ["vip_level"]},
            conditions={"all": [{"field": "vip_level", "op": "gte", "value": 1}]},
            actions=[{"type": "add_tag", "tag": "vip"}],
            actor=BENCH,
        )  # fmt: skip
        guests = list(Guest.objects.order_by("pk").values_list("pk", flat=True))
        batch, probes = guests[:count], guests[count : count + DELAY_SAMPLES]
        log(f"workflows: {count} triggers committed with the workers stopped")
        for pk in batch:
            guest_update(guest=Guest.objects.get(pk=pk), vip_level=1, actor=BENCH)
        procs = _workers(2)
        try:
            log("workflows: 2 workers draining")
            _wait_done(workflow, count, timeout=600)
            span = WorkflowRun.objects.filter(workflow=workflow).aggregate(
                first=Min("started"), last=Max("finished")
            )
            rate = count / (span["last"] - span["first"]).total_seconds()
            log(f"workflows: {rate:.0f} triggers/s; now {DELAY_SAMPLES} single triggers")
            delays = []
            for pk in probes:
                guest_update(guest=Guest.objects.get(pk=pk), vip_level=2, actor=BENCH)
                time.sleep(0.25)
            _wait_done(workflow, count + len(probes), timeout=300)
            for run in WorkflowRun.objects.filter(
                workflow=workflow, record_id__in=[str(p) for p in probes]
            ):
                action = WorkflowRunStep.objects.get(run=run, index=0)
                delays.append((action.at - run.created).total_seconds() * 1000)
        finally:
            _stop(procs)
        table = tenant.schema_name + ".crm_guest"
    # The baseline: the same tag write, one UPDATE + COMMIT per guest, raw psycopg.
    with psycopg.connect(_conninfo()) as conn:
        started = time.perf_counter()
        for pk in batch:
            conn.execute(
                f"UPDATE {table} SET tags = array_append(tags, 'raw') WHERE id = %s",  # noqa: S608
                [pk],
            )
            conn.commit()
        raw_rate = count / (time.perf_counter() - started)
    return [
        Figure(f"Workflow throughput, {count} triggers, 2 workers", round(rate, 1),
               "triggers/s", baseline=round(raw_rate, 1), target="> 20"),
        Figure("Workflow delay from commit to action p50", round(p50(delays), 1), "ms",
               target="< 2000"),
        Figure("Workflow delay from commit to action p95", round(p95(delays), 1), "ms"),
    ]  # fmt: skip
