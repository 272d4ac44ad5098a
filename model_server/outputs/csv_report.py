"""CSV copies of the Images and Detections sheets, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: str) -> str:
    """Text a spreadsheet program would run as a formula, kept as text (a leading apostrophe,
    as spreadsheets write it): a file or a species named `=HYPERLINK(...)` stays a name."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, str):
        return as_text(value)
    return value


class CsvTable:
    def __init__(self, fh: IO[str], columns: tuple[str, ...]) -> None:
        self._writer = csv.writer(fh)
        self._columns = columns
        self._writer.writerow(columns)

    def add(self, row: dict[str, Any]) -> None:
        self._writer.writerow([_cell(row.get(c)) for c in self._columns])
