"""The Summary sheet's activity tables and their native Excel charts (detections per hour of
day and per folder), so a researcher who only opens the zip sees the survey's pattern too."""

from __future__ import annotations

from typing import Any

from model_server.detectors.base import Category
from model_server.outputs.run_info import Tally

CHARTED_FOLDERS = 30  # the busiest folders get a bar each; the table lists every folder
BAR_STYLES = (
    {"fill": {"color": "#111111"}},
    {"pattern": {"pattern": "wide_upward_diagonal", "fg_color": "#111111", "bg_color": "#FFFFFF"}},
    {"fill": {"color": "#BBBBBB"}},
)


def write_activity(book: Any, ws: Any, row: int, tally: Tally, threshold: float, bold: Any) -> None:
    """Tables from `row` down in columns A-E; charts to their right."""
    cats = list(Category)
    unit = f"Detections (boxes at or above {threshold:g})"
    ws.write_string(row, 0, "Detections by hour of day (camera clock)", bold)
    ws.write_row(row + 1, 0, ["Hour", *(c.label for c in cats)], bold)
    first = row + 2
    for hour in range(24):
        ws.write_number(first + hour, 0, hour)
        for col, cat in enumerate(cats, start=1):
            ws.write_number(first + hour, col, tally.hours[(hour, cat.value)])
    _chart(
        book,
        ws,
        "column",
        "Detections by hour of day",
        first,
        first + 23,
        "Hour of day (camera clock)",
        unit,
        anchor=(row, 6),
    )

    row = first + 25
    folders = sorted({folder for folder, _ in tally.folders})
    ws.write_string(row, 0, "Images and detections per folder (camera)", bold)
    ws.write_row(row + 1, 0, ["Folder", *(c.label for c in cats), "images"], bold)
    busiest = sorted(folders, key=lambda f: -sum(tally.folders[(f, c.value)] for c in cats))
    charted = sorted(busiest[:CHARTED_FOLDERS])
    # the charted folders first, so the chart reads one block of rows
    ordered = charted + [f for f in folders if f not in charted]
    first = row + 2
    for i, folder in enumerate(ordered):
        ws.write_string(first + i, 0, folder or "(top level)")
        for col, cat in enumerate(cats, start=1):
            ws.write_number(first + i, col, tally.folders[(folder, cat.value)])
        ws.write_number(first + i, len(cats) + 1, tally.folders[(folder, "images")])
    if charted:
        title = "Detections per folder" + (
            f" (the {CHARTED_FOLDERS} busiest)" if len(folders) > CHARTED_FOLDERS else ""
        )
        _chart(
            book,
            ws,
            "bar",
            title,
            first,
            first + len(charted) - 1,
            "Folder",
            unit,
            anchor=(row, 6),
            height=max(300, 22 * len(charted) + 120),
        )


def _chart(
    book: Any,
    ws: Any,
    kind: str,
    title: str,
    first: int,
    last: int,
    x_name: str,
    y_name: str,
    *,
    anchor: tuple[int, int],
    height: int = 320,
) -> None:
    chart = book.add_chart({"type": kind, "subtype": "stacked"})
    for col, style in enumerate(BAR_STYLES, start=1):
        chart.add_series(
            {
                "name": [ws.name, first - 1, col],
                "categories": [ws.name, first, 0, last, 0],
                "values": [ws.name, first, col, last, col],
                "border": {"color": "#111111"},
                "gap": 40,
                **style,
            }
        )
    chart.set_title({"name": title})
    # a bar chart lies on its side: xlsxwriter's x axis is then the value axis
    category_axis, value_axis = (
        (chart.set_y_axis, chart.set_x_axis)
        if kind == "bar"
        else (chart.set_x_axis, chart.set_y_axis)
    )
    category_axis({"name": x_name})
    value_axis({"name": y_name})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": height})
    ws.insert_chart(*anchor, chart)
