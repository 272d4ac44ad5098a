"""evaluation.xlsx: the figures of one evaluation, with a native precision-recall chart.

Sheets: `Evaluation` (one row per category, image level), `Boxes` (the same at box level, where
the truth has boxes), `Confusion`, `Curve` (every point, and the chart), `Not evaluated` (every
file that could not be paired, with why) and `About` (what was compared, how)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

from shared.categories import LABELS
from shared.evaluation.model import NON_EMPTY

COLUMNS = (
    "category",
    "precision",
    "recall",
    "f1",
    "true_positives",
    "false_positives",
    "misses",
    "images",
)


def write_evaluation_workbook(
    path: Path, report: dict[str, Any], about: list[tuple[str, Any]]
) -> None:
    """`report` from shared.evaluation.report.against_truth (its `unpaired` listing every
    name); `about` the lines of the About sheet."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    ratio = book.add_format({"num_format": "0.000"})
    _table(book.add_worksheet("Evaluation"), report["categories"], bold, ratio)
    _table(book.add_worksheet("Boxes"), report["boxes"], bold, ratio)
    _confusion(book.add_worksheet("Confusion"), report["confusion"], bold)
    _curve(book, report["curves"], bold, ratio)
    _unpaired(book.add_worksheet("Not evaluated"), report["unpaired"], bold)
    sheet = book.add_worksheet("About")
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 90)
    for row, (label, value) in enumerate(about):
        sheet.write_string(row, 0, label, bold)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, "" if value is None else str(value))
    book.close()


def _table(sheet: Any, rows: list[dict[str, Any]], bold: Any, ratio: Any) -> None:
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, len(COLUMNS) - 1, 15)
    for col, name in enumerate(COLUMNS):
        sheet.write_string(0, col, name, bold)
    for r, row in enumerate(rows, start=1):
        sheet.write_string(r, 0, row["category"])
        for col, name in enumerate(COLUMNS[1:], start=1):
            value = row[name]
            if value is not None:  # an undefined ratio (nothing to divide by) stays blank
                sheet.write_number(r, col, value, ratio if col <= 3 else None)


def _confusion(sheet: Any, table: dict[str, dict[str, int]], bold: Any) -> None:
    names = [*LABELS, "empty"]
    sheet.set_column(0, 0, 30)
    sheet.write_string(0, 0, "really there \\ detector said", bold)
    for col, name in enumerate(names, start=1):
        sheet.write_string(0, col, name, bold)
    for r, real in enumerate(names, start=1):
        sheet.write_string(r, 0, real, bold)
        for col, said in enumerate(names, start=1):
            sheet.write_number(r, col, table[real][said])


def _curve(book: Any, curves: dict[str, list[dict[str, float]]], bold: Any, ratio: Any) -> None:
    sheet = book.add_worksheet("Curve")
    for col, name in enumerate(("category", "threshold", "precision", "recall")):
        sheet.write_string(0, col, name, bold)
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    row = 1
    dashes = {"animal": "solid", "person": "dash", "vehicle": "round_dot", NON_EMPTY: "long_dash"}
    for label, points in curves.items():
        first = row
        for p in points:
            sheet.write_string(row, 0, label)
            sheet.write_number(row, 1, p["threshold"], ratio)
            sheet.write_number(row, 2, p["precision"], ratio)
            sheet.write_number(row, 3, p["recall"], ratio)
            row += 1
        if points:
            chart.add_series(
                {
                    "name": label,
                    "categories": ["Curve", first, 3, row - 1, 3],
                    "values": ["Curve", first, 2, row - 1, 2],
                    "line": {"color": "black", "dash_type": dashes.get(label, "solid")},
                    "marker": {"type": "none"},
                }
            )
    if row == 1:
        sheet.write_string(
            2, 5, "No curve: none of the evaluated images really has any of the categories."
        )
        return
    chart.set_title({"name": "Precision and recall over thresholds (image level)"})
    chart.set_x_axis(
        {
            "name": "Recall (share of images really containing it that were found)",
            "min": 0,
            "max": 1,
        }
    )
    chart.set_y_axis(
        {"name": "Precision (share of flagged images that really contain it)", "min": 0, "max": 1}
    )
    chart.set_size({"width": 720, "height": 480})
    sheet.insert_chart(1, 5, chart)


def _unpaired(sheet: Any, unpaired: dict[str, Any], bold: Any) -> None:
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 2, 70)
    for col, name in enumerate(("kind", "file", "reason")):
        sheet.write_string(0, col, name, bold)
    kinds = {
        "results_without_truth": "result without truth",
        "truth_without_result": "truth without result",
    }
    row = 1
    for key, kind in kinds.items():
        for name in unpaired[key]["files"]:
            sheet.write_string(row, 0, kind)
            sheet.write_string(row, 1, name)
            row += 1
    for item in unpaired["not_evaluated"]["files"]:
        sheet.write_string(row, 0, "not evaluated")
        sheet.write_string(row, 1, item["file"])
        sheet.write_string(row, 2, item["reason"])
        row += 1
    sheet.autofilter(0, 0, max(row - 1, 1), 2)
