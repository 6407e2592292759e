"""Charts drawn on the server as SVG: no script, no CDN, text in the page's own fonts (so
Chinese labels show as the rest of the page does). Each chart has a title and a
description for screen readers; the page shows the same figures as a table beside it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48
COLOURS = ("#2563eb", "#d97706", "#059669", "#dc2626")

Number = int | float | Decimal


def _nice_max(values: Sequence[Number]) -> float:
    """The axis top: the largest value rounded up to 1, 2 or 5 times a power of ten."""
    top = max([float(v) for v in values] + [0.0])
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= top)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _frame(title: str, summary: str, top: float, body: list[str]) -> SafeString:
    plot_h = HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        y = TOP + plot_h * i / 4
        grid.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(top * (4 - i) / 4))}</text>"
        )
    return mark_safe(  # noqa: S308 - every text above and in body is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title chart-desc" class="chart">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(summary)}</desc>'
        "<style>.grid{stroke:#e5e7eb}text{font-size:11px;fill:#374151}</style>"
        + "".join(grid)
        + "".join(body)
        + "</svg>"
    )


def _x_labels(labels: Sequence[str], centres: list[float]) -> list[str]:
    every = max(1, len(labels) // 12)  # at most about twelve labels under the axis
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, centres, strict=True))
        if i % every == 0
    ]


def bar_chart(*, title: str, labels: Sequence[str], values: Sequence[Number]) -> SafeString:
    top = _nice_max(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    body, centres = [], []
    for i, value in enumerate(values):
        h = plot_h * float(value) / top
        x = LEFT + i * slot + slot * 0.15
        centres.append(LEFT + i * slot + slot / 2)
        body.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(labels[i])}: '
            f"{escape(str(value))}</title></rect>"
        )
    summary = "; ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    return _frame(title, summary, top, body + _x_labels(labels, centres))


def line_chart(
    *, title: str, labels: Sequence[str], series: Mapping[str, Sequence[Number]]
) -> SafeString:
    top = _nice_max([v for values in series.values() for v in values])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    centres = [LEFT + i * step for i in range(len(labels))]
    body = []
    for n, (name, values) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(
            f"{x:.1f},{TOP + plot_h - plot_h * float(v) / top:.1f}"
            for x, v in zip(centres, values, strict=True)
        )
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body.append(
            f'<text x="{LEFT + 8 + 140 * n}" y="{HEIGHT - 8}" fill="{colour}">{escape(name)}</text>'
        )
    summary = "; ".join(
        f"{name}: " + ", ".join(f"{label} {v}" for label, v in zip(labels, values, strict=True))
        for name, values in series.items()
    )
    return _frame(title, summary, top, body + _x_labels(labels, centres))
