"""Benchmark suite: every figure is measured next to its physical baseline (the same work
done by raw SQL through psycopg) in the same run, and reported as a ratio."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: str | None = None  # e.g. "< 1500" in the figure's unit
    notes: str = ""
    ratio: float | None = field(default=None)
    met: bool | None = field(default=None)

    def __post_init__(self) -> None:
        if self.baseline:
            # For rates (higher is better) the ratio is baseline/value, so that a ratio of
            # 3 always means "three times the cost of the raw baseline".
            if self.unit.endswith("/s"):
                self.ratio = round(self.baseline / self.value, 2) if self.value else None
            else:
                self.ratio = round(self.value / self.baseline, 2)
        if self.target:
            op, _, number = self.target.partition(" ")
            limit = float(number)
            self.met = {
                "<": self.value < limit,
                ">": self.value > limit,
                "==": self.value == limit,
            }[op]


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.ms = self.seconds * 1000


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def markdown(figures: list[Figure], meta: dict) -> str:
    lines = [
        f"Scale `{meta['scale']}`, commit `{meta['machine']['commit']}`, "
        f"{meta['machine']['cores']} cores ({meta['machine']['cpu']}), "
        f"{meta['machine']['memory_gb']} GB, PostgreSQL {meta.get('postgres', '?')}, "
        f"{meta['started']}, {meta['duration_s']:.0f} s in all.",
        "",
        "| figure | value | baseline | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for fig in figures:
        met = "-" if fig.met is None else ("yes" if fig.met else "**no**")
        lines.append(
            f"| {fig.name} | {fmt(fig.value)} {fig.unit} | "
            f"{fmt(fig.baseline)} | {fmt(fig.ratio)} | {fig.target or '-'} | {met} |"
        )
    return "\n".join(lines) + "\n"


def write_results(figures: list[Figure], meta: dict) -> tuple[Path, str]:
    out = Path(os.environ.get("BENCH_OUT", REPO / "bench-results.json"))
    out.write_text(json.dumps({**meta, "figures": [asdict(f) for f in figures]}, indent=2))
    table = markdown(figures, meta)
    out.with_suffix(".md").write_text(table)
    return out, table


def bench_tenant(slug: str, name: str, *, domain: str = ""):
    """A suite's own hotel group (active, English, EUR), made by the first run."""
    from tenants.models import Tenant
    from tenants.services.provisioning import tenant_create

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_create(
            name=name, slug=slug, domain=domain or f"{slug}.bench.localhost",
            admin_email=f"ops@{slug}.example", currency="EUR", languages=["en"],
            status="active", send_welcome_email=False,
        ).tenant  # fmt: skip
    return tenant


def columns_of(model, leave_out: set[str]) -> list[str]:
    """The model's columns but ``leave_out``: those a suite copies rows by in SQL."""
    return [f.column for f in model._meta.concrete_fields if f.column not in leave_out]
