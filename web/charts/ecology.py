"""Ecology charts: a species' relative abundance per location, and activity densities round
the clock."""

from __future__ import annotations

from web.charts.svg import DASHES, Svg


def rai_bars(species: str, rows: list[tuple[str, float | None]]) -> str:
    """One bar per location: events per 100 trap nights (no bar where it had no effort)."""
    width, height = 760, 330
    title = f"{species}: independent events per 100 trap nights"
    svg = Svg(width, height, title)
    left, right, top, bottom = 64, 16, 40, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    svg.text(left, 22, title, size=15, weight="bold")
    scale = svg.value_axis(left, top, plot_w, plot_h, max((v or 0.0 for _, v in rows), default=0))
    slot = plot_w / max(len(rows), 1)
    bar = max(slot * 0.7, 1)
    for i, (name, value) in enumerate(rows):
        x = left + i * slot + (slot - bar) / 2
        if value is not None:
            tip = f"{name}: {value:.2f} per 100 trap nights"
            svg.rect(x, top + plot_h - value * scale, bar, value * scale, "#111", tip)
        svg.text(x + bar / 2, top + plot_h + 16, name[:18], anchor="middle", size=10)
    svg.text(left + plot_w / 2, height - 12, "Location", anchor="middle")
    svg.text(16, top + plot_h / 2, "Events per 100 trap nights", anchor="middle", rotate=True)
    return svg.render()


def activity_curves(
    title: str, curves: list[tuple[str, list[tuple[float, float]]]], x_title: str
) -> str:
    """Kernel densities over 0-24 h, one dashed style per species, with a legend."""
    width, height = 760, 330
    svg = Svg(width, height, title)
    left, right, top, bottom = 64, 16, 48, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    svg.text(left, 22, title, size=15, weight="bold")
    svg.legend(left, 40, [name for name, _ in curves], lines=True)
    highest = max((v for _, pts in curves for _, v in pts), default=0.0)
    scale = svg.value_axis(left, top, plot_w, plot_h, highest)
    for hour in range(0, 25, 3):
        x = left + hour / 24 * plot_w
        svg.text(x, top + plot_h + 16, f"{hour:02d}", anchor="middle", size=10)
    for i, (_, points) in enumerate(curves):
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{left + h / 24 * plot_w:.1f},{top + plot_h - v * scale:.1f}"
            for k, (h, v) in enumerate(points)
        )
        dash = DASHES[i % len(DASHES)]
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        svg.add(f"<path d='{path}' fill='none' stroke='#111' stroke-width='2'{dashes}/>")
    svg.text(left + plot_w / 2, height - 12, x_title, anchor="middle")
    svg.text(
        16, top + plot_h / 2, "Density (share of events per hour)", anchor="middle", rotate=True
    )
    return svg.render()
