"""report.xlsx: Summary, Media (photos and videos), Frames (videos' checked frames with a
detection) and Detections sheets, streamed row by row (constant memory).

Every user-supplied string goes through write_string, so a file name such as `=HYPERLINK(...)`
stays text; only the map link we build ourselves from numbers becomes a hyperlink.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from model_server.detectors.base import Category
from model_server.outputs.event_tables import DEPLOYMENT_COLUMNS, EVENT_COLUMNS
from model_server.outputs.excel_charts import write_activity
from model_server.outputs.rows import DETECTION_COLUMNS, FRAME_COLUMNS, MEDIA_COLUMNS
from model_server.outputs.run_info import RunInfo, Tally

EXCEL_MAX_ROWS = 1_048_576
WIDTHS = {
    "file": 40,
    "folder": 24,
    "outcome": 16,
    "captured": 20,
    "camera_clock": 20,
    "make": 14,
    "model": 20,
    "serial": 14,
    "map_link": 18,
    "failure": 40,
    "exif_notes": 50,
    "category": 10,
    "altitude_ref": 16,
    "deployment": 30,
    "first_file": 40,
    "notes": 30,
    # dates and times as Excel shows them (yyyy-mm-dd hh:mm:ss): narrower prints ###
    "start": 20,
    "end": 20,
    "species": 24,
    "counts_from": 12,
}


class _Sheet:
    def __init__(self, book: ExcelReport, name: str, columns: tuple[str, ...], max_rows: int):
        self.ws = book.book.add_worksheet(name)
        self.book, self.name, self.columns, self.max_rows = book, name, columns, max_rows
        self.row = 0
        self.truncated = False
        for col, title in enumerate(columns):
            self.ws.set_column(col, col, WIDTHS.get(title, 12))
            self.ws.write_string(0, col, title, book.bold)
        self.ws.freeze_panes(1, 0)

    def add(self, values: dict[str, Any]) -> None:
        if self.row + 1 >= self.max_rows:
            self.truncated = True
            return
        self.row += 1
        for col, key in enumerate(self.columns):
            self.book.write_cell(self.ws, self.row, col, key, values.get(key))

    def finish(self) -> None:
        self.ws.autofilter(0, 0, max(self.row, 1), len(self.columns) - 1)


class ExcelReport:
    def __init__(
        self, path: Path, *, max_rows: int = EXCEL_MAX_ROWS, fields: tuple[str, ...] = ()
    ) -> None:
        """`fields`: the project's own fields, a column each on Detections and Events."""
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.bold = self.book.add_format({"bold": True})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.summary = self.book.add_worksheet("Summary")
        self.media = _Sheet(self, "Media", MEDIA_COLUMNS, max_rows)
        self.frames = _Sheet(self, "Frames", FRAME_COLUMNS, max_rows)
        self.detections = _Sheet(self, "Detections", (*DETECTION_COLUMNS, *fields), max_rows)
        self.events = _Sheet(self, "Events", (*EVENT_COLUMNS, *fields), max_rows)
        self.deployments = _Sheet(self, "Deployments", DEPLOYMENT_COLUMNS, max_rows)

    def write_cell(self, ws: Any, row: int, col: int, key: str, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, datetime):
            ws.write_datetime(row, col, value, self.date)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value)
        elif key == "map_link":
            ws.write_url(row, col, value, string="map")
        else:
            ws.write_string(row, col, str(value))

    def table(self, name: str, rows: list[list[Any]]) -> None:
        """A small sheet written whole: the first row is its header."""
        ws = self.book.add_worksheet(name)
        for r, row in enumerate(rows):
            for col, value in enumerate(row):
                if r == 0:
                    ws.set_column(col, col, 14 if col else 24)
                    ws.write_string(0, col, str(value), self.bold)
                else:
                    self.write_cell(ws, r, col, "", value)
        ws.freeze_panes(1, 0)

    def _sheets(self) -> tuple[_Sheet, ...]:
        return (self.media, self.frames, self.detections, self.events, self.deployments)

    def _summary(self, run: RunInfo, tally: Tally) -> list[str]:
        warnings = [
            f"The {s.name} sheet stopped at Excel's limit of {s.max_rows:,} rows; every "
            f"row is in the CSV files and detections.json."
            for s in self._sheets()
            if s.truncated
        ]
        rows: list[tuple[Any, ...]] = [
            ("Model", run.model.name),
            ("Model file", run.model.detector_id),
            ("Threshold used for outcomes and counts", run.threshold),
            ("Typical threshold for this model", run.model.typical_threshold),
            ("Conservative threshold for this model", run.model.conservative_threshold),
            ("Boxes drawn at or above", run.render_threshold),
            ("Started", run.started),
            ("Run time (seconds)", round(run.seconds, 1)),
            ("Images", tally.images - tally.videos),
            ("Videos", tally.videos),
        ]
        if tally.videos:
            rows.append(("Video frames checked", tally.frames_checked))
        if run.model.notes:
            rows.insert(1, ("Note", run.model.notes))
        rows.append(
            (
                "Counts from",
                (
                    "the review where a person reviewed a file, the model elsewhere "
                    f"({sum(tally.verified.values()):,} of {tally.images:,} files reviewed; "
                    "the Detections sheet keeps the model's own values)"
                ),
            )
        )
        rows += [
            (f"Media: {outcome}", n, _reviewed(tally.verified[outcome], n))
            for outcome, n in sorted(tally.outcomes.items())
        ]
        rows += [(f"Detections: {c.label}", tally.detections[c.value]) for c in Category]
        rows.append(("Deployments (cameras)", tally.deployments))
        rows.append(
            (
                f"Events (a gap of at most {run.event_gap:g} s within one)",
                sum(tally.events.values()),
            )
        )
        rows += [
            (
                f"Events: {outcome}",
                n,
                _reviewed(tally.events_reviewed[outcome], n, "with a reviewed file"),
            )
            for outcome, n in sorted(tally.events.items())
        ]
        rows.append(("Files skipped (not photos or videos)", len(run.skipped)))
        rows.append(("Media reviewed by a person", sum(tally.verified.values())))
        rows += [
            (f"Reviewed media, verified: {outcome}", n)
            for outcome, n in sorted(tally.verified.items())
        ]
        rows += [("Warning", text) for text in warnings]
        ws = self.summary
        # the activity tables below share these columns: B stays a table's width and long
        # values wrap inside it; C says how much of a count was reviewed
        ws.set_column(0, 0, 40)
        ws.set_column(1, 1, 30)
        ws.set_column(2, 2, 24)
        ws.set_column(3, 5, 12)
        wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        ws.write_string(0, 0, "Trapline detection report", self.bold)
        for i, (label, value, *reviewed) in enumerate(rows, start=1):
            ws.write_string(i, 0, label)
            if isinstance(value, str) and len(value) > 30:
                ws.write_string(i, 1, value, wrap)
            else:
                self.write_cell(ws, i, 1, label, value)
            if reviewed and reviewed[0]:
                ws.write_string(i, 2, reviewed[0])
        write_activity(self.book, ws, len(rows) + 2, tally, run.threshold, self.bold)
        # printed: landscape A4, every column on one page's width (the charts whole)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        return warnings

    def close(self, run: RunInfo, tally: Tally) -> list[str]:
        """Writes the Summary and the file; returns the warnings it put there."""
        warnings = self._summary(run, tally)
        for sheet in self._sheets():
            sheet.finish()
        self.book.close()
        return warnings


def _reviewed(reviewed: int, of: int, what: str = "reviewed") -> str:
    """ "12 reviewed", "all reviewed" or "" beside a count."""
    if not reviewed:
        return ""
    return f"all {what}" if reviewed >= of else f"{reviewed:,} {what}"
