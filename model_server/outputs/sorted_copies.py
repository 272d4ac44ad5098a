"""Annotated copies laid out by outcome in the zip when the job asks for it: `animal/`,
`person/`, `vehicle/`, `empty/` and combinations such as `animal_person/`, as MegaDetector's
folder separation names them, with each file's relative path kept below. A reviewed file goes
where the reviewer's outcome puts it."""

from __future__ import annotations

from itertools import combinations

from shared.categories import CATEGORY_LABELS
from shared.store.records import MediaRecord

_LABELS = list(CATEGORY_LABELS.values())
OUTCOME_FOLDERS = ("empty", *("_".join(c) for n in (1, 2, 3) for c in combinations(_LABELS, n)))


def folder_of(record: MediaRecord, threshold: float) -> str:
    outcome = (
        record.verified_outcome
        if record.review and record.verified_outcome
        else record.outcome(threshold)
    )
    return outcome.replace("+", "_")


def sorted_name(record: MediaRecord, name: str, threshold: float) -> str:
    return f"{folder_of(record, threshold)}/{name}"


def in_previous(names: set[str], name: str) -> str | None:
    """Where a copy is in an earlier zip: at its own path, or under any outcome's folder."""
    if name in names:
        return name
    return next(
        (f"{folder}/{name}" for folder in OUTCOME_FOLDERS if f"{folder}/{name}" in names), None
    )
