"""Each location's season on one time axis: when its camera was deployed (its periods), when it
was not working (operation gaps, recorded or found) and what its camera checks found (a span, or
a mark at a moment), so a researcher sees at a glance which location lost which weeks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from web.charts.svg import Svg

Span = tuple[datetime, datetime, str]  # start, end, what it is (the tooltip)


@dataclass(frozen=True)
class Lane:
    name: str
    periods: list[Span] = field(default_factory=list)
    gaps: list[Span] = field(default_factory=list)
    findings: list[Span] = field(default_factory=list)  # start == end: a moment


def _ticks(first: datetime, last: datetime, count: int = 6) -> list[datetime]:
    step = (last - first) / count
    return [first + step * i for i in range(count + 1)]


def timelines(lanes: list[Lane]) -> str:
    """One lane per location: periods black, gaps hatched, findings grey below them."""
    moments = [
        t for lane in lanes for s in (*lane.periods, *lane.gaps, *lane.findings) for t in s[:2]
    ]
    title = "Locations over the season: deployed, not working, and what the checks found"
    width, lane_h, top, left, right = 760, 34, 44, 150, 40
    height = top + lane_h * max(len(lanes), 1) + 40
    svg = Svg(width, height, title)
    svg.text(8, 22, title, size=15, weight="bold")
    if not moments:
        svg.text(left, top + 20, "No dated photos yet.")
        return svg.render()
    first, last = min(moments), max(moments)
    if last - first < timedelta(days=1):
        last = first + timedelta(days=1)
    plot_w = width - left - right

    def x(moment: datetime) -> float:
        return left + (moment - first) / (last - first) * plot_w

    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        svg.text(left - 8, y + 15, lane.name[:20], anchor="end", size=11)
        for start, end, tip in lane.periods:
            svg.rect(x(start), y + 4, max(x(end) - x(start), 2), 14, "#111", tip)
        for start, end, tip in lane.gaps:
            svg.rect(x(start), y + 4, max(x(end) - x(start), 2), 14, "url(#hatch)", tip)
        for start, end, tip in lane.findings:
            svg.rect(x(start) - 1, y + 21, max(x(end) - x(start), 0) + 2, 8, "#bbb", tip)
    bottom = top + lane_h * len(lanes)
    for tick in _ticks(first, last):
        svg.line(x(tick), top, x(tick), bottom, colour="#ccc", width=0.6)
        svg.text(x(tick), bottom + 16, tick.date().isoformat(), anchor="middle", size=10)
    svg.legend(left, height - 6, ["deployed", "not working", "check found"])
    return svg.render()
