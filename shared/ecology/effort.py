"""Sampling effort: how long each location's camera was working. A location's periods (one per
card, set-up to retrieval: the first and last file unless a person set them) minus its operation
gaps (spans it was not working) are its operating spans; their length in days is its camera
days, which camera-trap papers also call trap nights (24 hours of operation each, counted in
fractions, as camtrapR's `cameraOperation` does for the first and last day).

A gap is either a person's ("not working from ... to ...") or found: a silence longer than the
project's `silent_days` inside a period while another location's camera had files, which says
the camera (not the animals) stopped."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

DAY = timedelta(days=1)
DEFAULT_SILENT_DAYS = 7.0


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return max((self.end - self.start) / DAY, 0.0)

    def overlap(self, start: datetime, end: datetime) -> float:
        """Days of this span inside [start, end)."""
        return max((min(self.end, end) - max(self.start, start)) / DAY, 0.0)


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    reason: str  # "silent" (found) or what the person wrote
    by: str = ""  # the person who recorded it; "" for a found one
    id: int | None = None  # its stored row, for a person's

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "reason": self.reason,
            "by": self.by,
            "found": self.id is None,
        }


def without(spans: Iterable[Span], gaps: Iterable[Gap]) -> list[Span]:
    """`spans` with every gap cut out, in time order, merged where they touch."""
    left = sorted(spans, key=lambda s: s.start)
    for gap in sorted(gaps, key=lambda g: g.start):
        cut: list[Span] = []
        for s in left:
            if gap.end <= s.start or gap.start >= s.end:
                cut.append(s)
                continue
            if s.start < gap.start:
                cut.append(Span(s.start, gap.start))
            if gap.end < s.end:
                cut.append(Span(gap.end, s.end))
        left = cut
    merged: list[Span] = []
    for s in left:
        if merged and s.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, s.end))
        elif s.end > s.start:
            merged.append(s)
    return merged


def silent_gaps(
    times: Mapping[int, Sequence[datetime]],
    spans: Mapping[int, Sequence[Span]],
    silent_days: float,
) -> dict[int, list[Gap]]:
    """Per location, each silence between two of its files longer than `silent_days` inside one
    of its periods, while some other location has a file strictly inside it."""
    limit = timedelta(days=silent_days)
    others: dict[int, list[datetime]] = {
        loc: sorted(t for other, ts in times.items() if other != loc for t in ts) for loc in times
    }
    found: dict[int, list[Gap]] = {}
    for loc, own in times.items():
        ordered = sorted(own)
        for a, b in pairwise(ordered):
            if b - a <= limit or not any(s.start <= a and b <= s.end for s in spans.get(loc, ())):
                continue
            theirs = others[loc]
            at = bisect_right(theirs, a)
            if at < len(theirs) and theirs[at] < b:
                found.setdefault(loc, []).append(Gap(a, b, "silent"))
    return found


@dataclass(frozen=True)
class LocationEffort:
    location_id: int
    name: str
    periods: list[Span]
    gaps: list[Gap]
    operating: list[Span]

    @property
    def start(self) -> datetime | None:
        return min((p.start for p in self.periods), default=None)

    @property
    def end(self) -> datetime | None:
        return max((p.end for p in self.periods), default=None)

    @property
    def days(self) -> float:
        """Camera days (trap nights): 24 hours of operation each."""
        return sum(s.days for s in self.operating)

    @property
    def gap_days(self) -> float:
        return sum(Span(g.start, g.end).days for g in self.gaps)

    def days_within(self, start: datetime, end: datetime) -> float:
        return sum(s.overlap(start, end) for s in self.operating)

    def public(self) -> dict[str, object]:
        return {
            "location": self.location_id,
            "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "periods": len(self.periods),
            "gaps": [g.public() for g in self.gaps],
            "gap_days": round(self.gap_days, 4),
            "trap_nights": round(self.days, 4),
        }


def location_effort(
    location_id: int, name: str, periods: Sequence[Span], gaps: Sequence[Gap]
) -> LocationEffort:
    """A location's effort; only the part of each gap inside its periods is kept."""
    inside = [
        Gap(max(g.start, p.start), min(g.end, p.end), g.reason, g.by, g.id)
        for g in gaps
        for p in periods
        if g.start < p.end and p.start < g.end
    ]
    kept = sorted(inside, key=lambda g: (g.start, g.end))
    return LocationEffort(
        location_id, name, sorted(periods, key=lambda p: p.start), kept, without(periods, kept)
    )
