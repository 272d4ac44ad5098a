"""Detection histories for occupancy models: for one species and an occasion length, a
location x occasion matrix of 1 (detected), 0 (operating, not detected) and None (NA: operating
for less than `min_share` of the occasion), with the matrix of operating days beside it. Occasions
start at midnight of the survey's first day, as camtrapR's `detectionHistory` does with
`occasionStartTime = 0`, and run to the survey's last operating day."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.ecology.abundance import operating
from shared.ecology.effort import LocationEffort
from shared.ecology.records import Detection

DEFAULT_OCCASION_DAYS = 7
DEFAULT_MIN_SHARE = 0.5


@dataclass(frozen=True)
class History:
    species: str
    occasion_days: int
    first: datetime | None  # the first occasion's start
    locations: list[str]
    detected: list[list[int | None]]
    effort: list[list[float]]  # operating days of each location in each occasion

    @property
    def occasions(self) -> int:
        return len(self.detected[0]) if self.detected else 0

    def starts(self) -> list[datetime]:
        if self.first is None:
            return []
        step = timedelta(days=self.occasion_days)
        return [self.first + k * step for k in range(self.occasions)]


def detection_history(
    detections: Sequence[Detection],
    effort: Mapping[int, LocationEffort],
    species: str,
    occasion_days: int = DEFAULT_OCCASION_DAYS,
    min_share: float = DEFAULT_MIN_SHARE,
) -> History:
    places = sorted((e for e in effort.values() if e.operating), key=lambda e: e.name)
    if not places:
        return History(species, occasion_days, None, [], [], [])
    start = min(s.start for e in places for s in e.operating)
    end = max(s.end for e in places for s in e.operating)
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(days=occasion_days)
    count = max(1, math.ceil((end - first) / step))
    seen: set[tuple[int, int]] = set()
    for d in detections:
        if d.species == species and d.location_id in effort and operating(d, effort[d.location_id]):
            seen.add((d.location_id, int((d.start - first) // step)))
    detected: list[list[int | None]] = []
    days: list[list[float]] = []
    for e in places:
        row: list[int | None] = []
        worked: list[float] = []
        for k in range(count):
            on = e.days_within(first + k * step, first + (k + 1) * step)
            worked.append(round(on, 4))
            if on < min_share * occasion_days:
                row.append(None)
            else:
                row.append(1 if (e.location_id, k) in seen else 0)
        detected.append(row)
        days.append(worked)
    return History(species, occasion_days, first, [e.name for e in places], detected, days)


def history_csv_rows(
    history: History, matrix: str = "detected"
) -> list[list[str | int | float | None]]:
    """The layout `unmarked` and camtrapR read: a header, then one row per location with its
    occasions o1..oN; NA where the camera did not work enough."""
    header: list[str | int | float | None] = [
        "location",
        *(f"o{k + 1}" for k in range(history.occasions)),
    ]
    values: list[list[float | None]] = [
        list(row) for row in (history.detected if matrix == "detected" else history.effort)
    ]
    rows = [header]
    for name, row in zip(history.locations, values, strict=True):
        rows.append([name, *("NA" if v is None else v for v in row)])
    return rows
