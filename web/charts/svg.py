"""A small SVG writer: escaped text, the fill patterns and dashes that tell series apart in
black and white, and axes with round tick values."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

# a presentation attribute, not a style: the site's Content-Security-Policy refuses inline styles
FONT = "DejaVu Sans, Arial, sans-serif"
# series styles that survive a black-and-white printer: fill, and the line's dash
FILLS = ("#111", "url(#hatch)", "#bbb", "url(#dots)")
DASHES = ("", "8 4", "2 3", "12 3 2 3")
DEFS = (
    "<defs>"
    "<pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(45)'><rect width='6' height='6' fill='#fff'/>"
    "<line x1='0' y1='0' x2='0' y2='6' stroke='#111' stroke-width='2.5'/></pattern>"
    "<pattern id='dots' width='5' height='5' patternUnits='userSpaceOnUse'>"
    "<rect width='5' height='5' fill='#fff'/><circle cx='2.5' cy='2.5' r='1.2' fill='#111'/>"
    "</pattern></defs>"
)


class Svg:
    def __init__(self, width: int, height: int, title: str) -> None:
        self.width, self.height = width, height
        self.parts = [
            (
                f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' "
                f"height='{height}' viewBox='0 0 {width} {height}' role='img' "
                f"aria-label={quoteattr(title)} font-family={quoteattr(FONT)}>"
            ),
            f"<title>{escape(title)}</title>",
            DEFS,
            f"<rect width='{width}' height='{height}' fill='#fff'/>",
        ]

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(
        self,
        x: float,
        y: float,
        words: str,
        *,
        size: int = 12,
        anchor: str = "start",
        weight: str = "normal",
        rotate: bool = False,
    ) -> None:
        turn = f" transform='rotate(-90 {x:.1f} {y:.1f})'" if rotate else ""
        self.add(
            f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
            f"font-weight='{weight}' fill='#111'{turn}>{escape(words)}</text>"
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        width: float = 1,
        colour: str = "#111",
        dash: str = "",
    ) -> None:
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        self.add(
            f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
            f"stroke='{colour}' stroke-width='{width}'{dashes}/>"
        )

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.add(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(w, 0):.1f}' "
            f"height='{max(h, 0):.1f}' fill='{fill}' stroke='#111' stroke-width='0.6'>"
            f"{title}</rect>"
        )

    def legend(self, x: float, y: float, names: list[str], *, lines: bool = False) -> None:
        for i, name in enumerate(names):
            at = x + i * 130
            if lines:
                self.line(at, y - 4, at + 28, y - 4, width=2.5, dash=DASHES[i % len(DASHES)])
            else:
                self.rect(at, y - 11, 14, 12, FILLS[i % len(FILLS)])
            self.text(at + (34 if lines else 20), y, name)

    def value_axis(
        self, left: float, top: float, plot_w: float, plot_h: float, highest: float
    ) -> float:
        """Grid lines and labels at round values from 0 to at least `highest` up the plot's
        left side; returns the pixels per unit."""
        ticks = nice_ticks(highest)
        scale = plot_h / ticks[-1]
        for tick in ticks:
            y = top + plot_h - tick * scale
            self.line(left, y, left + plot_w, y, colour="#ccc", width=0.6)
            self.text(left - 6, y + 4, number(tick), anchor="end", size=11)
        return scale

    def render(self) -> str:
        return "".join([*self.parts, "</svg>"])


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")
