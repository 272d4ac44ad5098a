"""Repeated detections at one location: boxes of one category in the same place of the frame,
file after file (a branch, a rock, a post the detector fires on), grouped and judged as a
suspected false alarm by how many files, events and days they cover.

Grouping is leader clustering, as MegaDetector's repeat detection elimination does it: boxes in
capture order, each joins the group whose first box it overlaps best at IoU >= the setting, or
starts a group of its own. The groups' first boxes are kept in a grid over box centres, and a
box is compared only with those near enough to reach the IoU at all (`reach`), so 100,000 boxes
at a location cost about as much as their number, never all pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# The grid's cell, as a share of the frame's width and height: small enough that a query for a
# small box looks at few cells, large enough that a large box does not look at thousands.
CELL = 0.02


@dataclass(frozen=True)
class RepeatRules:
    """When boxes are one group, and when a group is a suspected repeat."""

    iou: float = 0.85  # boxes overlapping at least this much are in the same place
    min_files: int = 10  # a suspected repeat holds at least this many files...
    min_share: float = 0.2  # ...and spans more than one event, or more than this share of files
    max_box_area: float = 0.2  # larger boxes (share of the frame) are never grouped

    def __post_init__(self) -> None:
        if not 0 < self.iou <= 1 or not 0 < self.min_share <= 1 or not 0 < self.max_box_area <= 1:
            raise ValueError("iou, min_share and max_box_area are shares between 0 and 1")
        if self.min_files < 1:
            raise ValueError("min_files must be at least 1")


@dataclass(frozen=True)
class Box:
    """One machine box at a location: bbox is MegaDetector's [x, y, width, height], normalised."""

    id: int
    media_id: int
    category: str
    bbox: tuple[float, float, float, float]
    captured: datetime | None = None
    event: str = ""  # the event the box's file belongs to ("" where unknown)
    verdict: str | None = None  # a reviewer's, where the box was reviewed

    @property
    def area(self) -> float:
        return self.bbox[2] * self.bbox[3]


@dataclass
class Group:
    """Boxes in one place of one location's frame, in the order they were taken in."""

    category: str
    leader: Box
    index: int  # the order groups were started in: of two equal overlaps, the older wins
    boxes: list[Box] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len({b.media_id for b in self.boxes})

    @property
    def events(self) -> int:
        return len({b.event or f"file {b.media_id}" for b in self.boxes})

    @property
    def times(self) -> list[datetime]:
        return sorted(b.captured for b in self.boxes if b.captured is not None)

    @property
    def first(self) -> datetime | None:
        times = self.times
        return times[0] if times else None

    @property
    def last(self) -> datetime | None:
        times = self.times
        return times[-1] if times else None

    @property
    def days(self) -> int:
        return len({t.date() for t in self.times})

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """The group's place: the median of its boxes' edges (robust to a stray member)."""
        edges = [
            (b.bbox[0], b.bbox[1], b.bbox[0] + b.bbox[2], b.bbox[1] + b.bbox[3]) for b in self.boxes
        ]
        x0, y0, x1, y1 = (_median([e[i] for e in edges]) for i in range(4))
        return (x0, y0, x1 - x0, y1 - y0)

    def suspected(self, rules: RepeatRules, location_files: int) -> bool:
        """Many files in one place, and more than one visit (event) or much of the location."""
        files = self.files
        if files < rules.min_files:
            return False
        return self.events > 1 or files > rules.min_share * max(location_files, 1)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two [x, y, width, height] boxes."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def reach(bbox: Sequence[float], threshold: float) -> tuple[float, float]:
    """How far apart (in x, in y) the centres of two boxes can be when they overlap at IoU >=
    `threshold`: the intersection is at least `threshold` of each box, so the other box is at
    most 1/threshold as wide, and the centres at most (1 - t) / t of this box's size apart."""
    factor = (1 - threshold) / threshold
    return bbox[2] * factor, bbox[3] * factor


class _Grid:
    """Groups' first boxes by the cell of their centre."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[Group]] = {}

    @staticmethod
    def _cell(x: float, y: float) -> tuple[int, int]:
        return math.floor(x / CELL), math.floor(y / CELL)

    def add(self, group: Group) -> None:
        x, y, w, h = group.leader.bbox
        self.cells.setdefault(self._cell(x + w / 2, y + h / 2), []).append(group)

    def near(self, bbox: Sequence[float], threshold: float) -> Iterator[Group]:
        x, y, w, h = bbox
        dx, dy = reach(bbox, threshold)
        cx, cy = x + w / 2, y + h / 2
        (c0, r0), (c1, r1) = self._cell(cx - dx, cy - dy), self._cell(cx + dx, cy + dy)
        for col in range(c0, c1 + 1):
            for row in range(r0, r1 + 1):
                yield from self.cells.get((col, row), ())


class _Scan(_Grid):
    """Every group is a candidate: the same clustering without the index, to check the index
    against and to measure what it saves (`benchmarks/bench_repeats.py`)."""

    def add(self, group: Group) -> None:
        self.cells.setdefault((0, 0), []).append(group)

    def near(self, bbox: Sequence[float], threshold: float) -> Iterator[Group]:
        yield from self.cells.get((0, 0), ())


def group_boxes(boxes: Iterable[Box], rules: RepeatRules, *, indexed: bool = True) -> list[Group]:
    """The groups of one location's boxes (every group, suspected or not), largest first. Boxes
    larger than `rules.max_box_area` are left out: a large box is an animal close to the lens
    far more often than a fixed object. `indexed=False` compares each box with every group."""
    order = sorted(
        (b for b in boxes if b.area <= rules.max_box_area and b.bbox[2] > 0 and b.bbox[3] > 0),
        key=lambda b: (b.captured is None, b.captured or datetime.min, b.media_id, b.id),
    )
    grids: dict[str, _Grid] = {}
    groups: list[Group] = []
    for box in order:
        grid = grids.setdefault(box.category, _Grid() if indexed else _Scan())
        best = _best(box, grid.near(box.bbox, rules.iou), rules.iou)
        if best is None:
            best = Group(box.category, box, len(groups))
            grid.add(best)
            groups.append(best)
        best.boxes.append(box)
    return sorted(groups, key=lambda g: (-g.files, -len(g.boxes), g.leader.id))


def _best(box: Box, candidates: Iterable[Group], threshold: float) -> Group | None:
    """The group whose first box `box` overlaps most, at least at `threshold`."""
    best: Group | None = None
    best_key = (threshold, 0)
    for group in candidates:
        key = (iou(box.bbox, group.leader.bbox), -group.index)
        if key[0] >= threshold and (best is None or key > best_key):
            best, best_key = group, key
    return best


def suspected_repeats(boxes: Iterable[Box], rules: RepeatRules, location_files: int) -> list[Group]:
    """The groups of one location that look like a fixed object, largest first."""
    return [g for g in group_boxes(boxes, rules) if g.suspected(rules, location_files)]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
