"""What every figure counts, in SQL: a reviewed file's verified outcome and counts, the machine's
elsewhere (`MediaRecord.final_counts` is the same rule for one record). A file is reviewed when
it has a verified outcome; the review and the machine columns share the folder index, so a
job's summary still reads the index alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func

from shared.store.records import COUNT_COLUMNS
from shared.store.schema import detections, media

# media columns by MegaDetector category id: the machine's and the reviewer's
MACHINE = {value: media.c[column] for value, column in COUNT_COLUMNS.items()}
VERIFIED = {value: media.c[f"verified_{column}"] for value, column in COUNT_COLUMNS.items()}


def counted_machine_box() -> ColumnElement[bool]:
    """A detector's box that counts: not drawn by a person, not suppressed by a repeat rule."""
    return and_(detections.c.source == "machine", detections.c.suppressed_by.is_(None))


def final_outcome() -> ColumnElement[str]:
    return func.coalesce(media.c.verified_outcome, media.c.outcome)


def final_count(value: str) -> ColumnElement[int]:
    return func.coalesce(VERIFIED[value], MACHINE[value])


def is_reviewed() -> ColumnElement[bool]:
    return media.c.verified_outcome.is_not(None)


def final_sums() -> tuple[Any, ...]:
    """Images and the boxes of each label, as figures count them."""
    return (
        func.count().label("images"),
        *(func.sum(final_count(v)).label(f"n{v}") for v in COUNT_COLUMNS),
    )
