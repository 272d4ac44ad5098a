"""Stacked bar charts: detections of each category per hour of day or per day."""

from __future__ import annotations

import math

from shared.categories import LABELS
from web.charts.svg import FILLS, Svg


def stacked_bars(
    title: str,
    keys: list[str],
    rows: list[dict[str, int]],
    *,
    x_title: str,
    y_title: str,
    width: int = 760,
    height: int = 330,
) -> str:
    """One bar per key, stacked by category (black, hatched, grey), with a legend; as many key
    labels under the bars as fit without overlapping."""
    svg = Svg(width, height, title)
    left, right, top, bottom = 64, 16, 40, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(r[label] for label in LABELS) for r in rows]
    svg.text(left, 22, title, size=15, weight="bold")
    scale = svg.value_axis(left, top, plot_w, plot_h, max(totals, default=0))
    slot = plot_w / max(len(rows), 1)
    label_px = 6.5 * max((len(k) for k in keys), default=1) + 8  # at font size 10
    label_every = max(1, math.ceil(label_px / slot))
    bar = max(slot * 0.75, 1)
    for i, (key, row) in enumerate(zip(keys, rows, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        base = float(top + plot_h)
        for label, fill in zip(LABELS, FILLS, strict=False):
            h = row[label] * scale
            if h > 0:
                svg.rect(x, base - h, bar, h, fill, f"{key}: {row[label]:,} {label}")
                base -= h
        if i % label_every == 0:
            svg.text(x + bar / 2, top + plot_h + 15, key, size=10, anchor="middle")
    svg.line(left, top + plot_h, left + plot_w, top + plot_h)
    svg.line(left, top, left, top + plot_h)
    svg.text(left + plot_w / 2, height - 30, x_title, anchor="middle")
    svg.text(16, top + plot_h / 2, y_title, anchor="middle", rotate=True)
    svg.legend(left, height - 8, list(LABELS))
    return svg.render()
