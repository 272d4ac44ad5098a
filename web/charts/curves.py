"""The precision-recall chart of an evaluation: one line per category, told apart by dash."""

from __future__ import annotations

from web.charts.svg import DASHES, Svg

MARKED = 40  # curves with this few points get a marker on each (a single point is no line)


def _marker(svg: Svg, series: int, x: float, y: float) -> None:
    """Circle, square, triangle, diamond: the series' shape, for black-and-white prints."""
    shape = series % 4
    if shape == 0:
        svg.add(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#111'/>")
    elif shape == 1:
        svg.add(
            f"<rect x='{x - 4:.1f}' y='{y - 4:.1f}' width='8' height='8' fill='#fff' "
            f"stroke='#111' stroke-width='1.5'/>"
        )
    elif shape == 2:
        svg.add(f"<path d='M {x:.1f} {y - 5:.1f} l 5 9 l -10 0 z' fill='#111'/>")
    else:
        svg.add(
            f"<path d='M {x:.1f} {y - 5:.1f} l 5 5 l -5 5 l -5 -5 z' fill='#fff' "
            f"stroke='#111' stroke-width='1.5'/>"
        )


def precision_recall(
    curves: dict[str, list[dict[str, float]]],
    *,
    width: int = 560,
    height: int = 460,
    title: str = "Precision and recall (image level)",
) -> str:
    svg = Svg(width, height, title)
    left, right, top, bottom = 64, 20, 40, 84
    side_w, side_h = width - left - right, height - top - bottom
    svg.text(left, 22, title, size=15, weight="bold")
    for i in range(11):
        v = i / 10
        x, y = left + v * side_w, top + side_h - v * side_h
        svg.line(x, top, x, top + side_h, colour="#ddd", width=0.6)
        svg.line(left, y, left + side_w, y, colour="#ddd", width=0.6)
        if i % 2 == 0:
            svg.text(x, top + side_h + 16, f"{v:.0%}", size=11, anchor="middle")
            svg.text(left - 6, y + 4, f"{v:.0%}", size=11, anchor="end")
    svg.line(left, top + side_h, left + side_w, top + side_h)
    svg.line(left, top, left, top + side_h)
    drawn = []
    for i, (label, points) in enumerate((k, v) for k, v in curves.items() if v):
        coords = " ".join(
            f"{left + p['recall'] * side_w:.1f},{top + side_h - p['precision'] * side_h:.1f}"
            for p in points
        )
        dash = DASHES[i % len(DASHES)]
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        svg.add(
            f"<polyline points='{coords}' fill='none' stroke='#111' stroke-width='2.5'{dashes}/>"
        )
        if len(points) <= MARKED:
            for p in points:
                _marker(svg, i, left + p["recall"] * side_w, top + side_h - p["precision"] * side_h)
        drawn.append(label)
    if not drawn:
        svg.text(
            left + side_w / 2,
            top + side_h / 2,
            "No category is really present in the evaluated images: no curve",
            anchor="middle",
        )
    svg.text(
        left + side_w / 2,
        height - 46,
        "Recall (% of images really containing it that are flagged)",
        anchor="middle",
    )
    svg.text(
        16,
        top + side_h / 2,
        "Precision (% of flagged images that contain it)",
        anchor="middle",
        rotate=True,
    )
    svg.legend(left, height - 14, drawn, lines=True)
    return svg.render()
