"""The cameras on a map without tiles or any online service: their GPS positions projected
onto a local plane (equirectangular about the survey's centre: true to within a fraction of a
percent over a few tens of kilometres), with a scale bar, north, and the corners' coordinates."""

from __future__ import annotations

import math
from typing import Any

from web.charts.svg import Svg, number

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_EQUATOR = 111.320
SMALLEST_SPAN_KM = 0.5  # a single camera (or cameras metres apart) still gets a readable frame


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):.5f}° {positive if value >= 0 else negative}"


def _scale_length(span_km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten, in km) about a quarter of the span."""
    raw = span_km / 4
    power = 10 ** math.floor(math.log10(raw))
    return max(m * power for m in (1, 2, 5) if m * power <= raw)


def camera_map(
    cameras: list[dict[str, Any]],
    *,
    width: int = 640,
    height: int = 480,
    title: str = "Camera positions (median GPS of each folder's photos)",
) -> str:
    """`cameras`: folder, latitude, longitude (None: not drawn), and `detections`."""
    placed = [c for c in cameras if c["latitude"] is not None and c["longitude"] is not None]
    svg = Svg(width, height, title)
    svg.text(16, 22, title, size=15, weight="bold")
    unplaced = [c["folder"] or "(top level)" for c in cameras if c not in placed]
    if unplaced:
        more = f" and {len(unplaced) - 6} more" if len(unplaced) > 6 else ""
        svg.text(
            70,
            height - 24,
            f"Not on the map (no GPS in their photos): {', '.join(unplaced[:6])}{more}",
            size=11,
        )
    left, top, plot_w, plot_h = 70, 40, width - 140, height - 136
    svg.add(
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='#fff' "
        f"stroke='#111' stroke-width='1'/>"
    )
    if not placed:
        svg.text(
            left + plot_w / 2,
            top + plot_h / 2,
            "No photo carries a usable GPS position",
            anchor="middle",
        )
        return svg.render()
    lat0 = (min(c["latitude"] for c in placed) + max(c["latitude"] for c in placed)) / 2
    lon0 = (min(c["longitude"] for c in placed) + max(c["longitude"] for c in placed)) / 2
    km_lon = KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat0))

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * km_lon, (lat - lat0) * KM_PER_DEGREE_LAT

    points = [project(c["latitude"], c["longitude"]) for c in placed]
    span = (
        max(
            max(abs(x) for x, _ in points) * 2, max(abs(y) for _, y in points) * 2, SMALLEST_SPAN_KM
        )
        * 1.25
    )
    px_per_km = min(plot_w, plot_h) / span
    cx, cy = left + plot_w / 2, top + plot_h / 2
    most = max((c["detections"] for c in placed), default=0) or 1
    for camera, (x, y) in sorted(
        zip(placed, points, strict=True), key=lambda item: -item[0]["detections"]
    ):
        sx, sy = cx + x * px_per_km, cy - y * px_per_km
        radius = 4 + 14 * math.sqrt(camera["detections"] / most)
        name = camera["folder"] or "(top level)"
        svg.add(
            f"<circle cx='{sx:.1f}' cy='{sy:.1f}' r='{radius:.1f}' fill='#111' "
            f"fill-opacity='0.75' stroke='#fff' stroke-width='1.5'/>"
        )
        svg.text(sx + radius + 4, sy + 4, f"{name} ({number(camera['detections'])})", size=11)
    _frame(svg, left, top, plot_w, plot_h, px_per_km, lat0, lon0, km_lon)
    svg.text(
        left,
        height - 62,
        "Circle area: detections at the threshold (the number in brackets).",
        size=11,
    )
    svg.text(
        left,
        height - 46,
        "Positions on a plane about the survey's centre; no map background.",
        size=11,
    )
    return svg.render()


def _frame(
    svg: Svg,
    left: float,
    top: float,
    w: float,
    h: float,
    px_per_km: float,
    lat0: float,
    lon0: float,
    km_lon: float,
) -> None:
    """Scale bar, north arrow, and the coordinates of two corners."""
    length = _scale_length(w / px_per_km)
    bar = length * px_per_km
    y = top + h - 14
    svg.line(left + 12, y, left + 12 + bar, y, width=3)
    for end in (left + 12, left + 12 + bar):
        svg.line(end, y - 5, end, y + 5, width=1.5)
    words = f"{number(length)} km" if length >= 1 else f"{number(length * 1000)} m"
    svg.text(left + 12 + bar / 2, y - 8, words, size=11, anchor="middle")
    svg.add(f"<path d='M {left + w - 22} {top + 34} l 8 -22 l 8 22 l -8 -6 z' fill='#111'/>")
    svg.text(left + w - 14, top + 46, "N", size=12, anchor="middle", weight="bold")
    half_w, half_h = w / 2 / px_per_km, h / 2 / px_per_km
    north, south = lat0 + half_h / KM_PER_DEGREE_LAT, lat0 - half_h / KM_PER_DEGREE_LAT
    west, east = lon0 - half_w / km_lon, lon0 + half_w / km_lon
    svg.text(left, top - 6, f"{_degrees(north, 'N', 'S')}, {_degrees(west, 'E', 'W')}", size=10)
    svg.text(
        left + w,
        top + h + 14,
        f"{_degrees(south, 'N', 'S')}, {_degrees(east, 'E', 'W')}",
        size=10,
        anchor="end",
    )
