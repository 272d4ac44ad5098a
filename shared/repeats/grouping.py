"""Repeated detections at one location: boxes of one category in the same place of the frame,
file after file (a branch, a rock, a post the detector fires on), grouped and judged as a
suspected false alarm by how many files, events and days they cover.

Grouping is leader clustering, as MegaDetector's repeat detection elimination does it: boxes in
capture order, each joins the group whose first box it overlaps best at IoU >= the setting, or
starts a group of its own. The groups' first boxes are kept in a grid by size and centre, and a
box is compared only with those alike enough in size and near enough to reach the IoU at all,
so 100,000 boxes at a location cost about as much as their number, never all pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime


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
    appearance: float | None = None  # how unlike its group's typical crop (None: not measured)

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


# A group's first box as the index keeps it: x0, y0, x1, y1, area, and the group
_Entry = tuple[float, float, float, float, float, Group]


def _entry(group: Group) -> _Entry:
    x, y, w, h = group.leader.bbox
    return (x, y, x + w, y + h, w * h, group)


class _Grid:
    """Groups' first boxes by size and place. Two boxes that overlap at IoU >= t are alike in
    size (each width at least t times the other's, so one size class apart at most when the
    classes grow by 1/t) and near (centres at most (1 - t) times the larger width apart), so a
    box looks in the 3 x 3 size classes around its own, and in each only at the cells (twice as
    large as that class's reach) its centre can reach: a query costs the same whether the
    location holds a thousand groups or fifty thousand."""

    def __init__(self, threshold: float) -> None:
        self.t = min(threshold, 0.999)  # at 1, only identical boxes: keep the classes finite
        self.step = math.log(1 / self.t)
        self.cells: dict[tuple[int, int, int, int], list[_Entry]] = {}
        self._reach: dict[int, float] = {}  # a class's reach: (1 - t) x its largest size

    def _class(self, size: float) -> int:
        return math.floor(math.log(size) / self.step)

    def reach(self, size_class: int) -> float:
        found = self._reach.get(size_class)
        if found is None:
            found = self._reach[size_class] = (1 - self.t) * math.exp((size_class + 1) * self.step)
        return found

    def add(self, group: Group) -> None:
        x, y, w, h = group.leader.bbox
        wc, hc = self._class(w), self._class(h)
        key = (
            wc,
            hc,
            math.floor((x + w / 2) / (2 * self.reach(wc))),
            math.floor((y + h / 2) / (2 * self.reach(hc))),
        )
        self.cells.setdefault(key, []).append(_entry(group))

    def near(self, bbox: Sequence[float], threshold: float) -> list[_Entry]:
        x, y, w, h = bbox
        cx, cy = x + w / 2, y + h / 2
        wa, ha = self._class(w), self._class(h)
        floor, get = math.floor, self.cells.get
        spans = []  # per class of each axis: the class and the cells the centre can reach
        for centre, own in ((cx, wa), (cy, ha)):
            axis = []
            for c in (own - 1, own, own + 1):
                r, cell = max(self.reach(own), self.reach(c)), 2 * self.reach(c)
                axis.append((c, range(floor((centre - r) / cell), floor((centre + r) / cell) + 1)))
            spans.append(axis)
        found: list[_Entry] = []
        for wc, cols in spans[0]:
            for hc, rows in spans[1]:
                for col in cols:
                    for row in rows:
                        there = get((wc, hc, col, row))
                        if there:
                            found.extend(there)
        return found


class _Scan(_Grid):
    """Every group is a candidate: the same clustering without the index, to check the index
    against and to measure what it saves (`benchmarks/bench_repeats.py`)."""

    def add(self, group: Group) -> None:
        self.cells.setdefault((0, 0, 0, 0), []).append(_entry(group))

    def near(self, bbox: Sequence[float], threshold: float) -> list[_Entry]:
        return self.cells.get((0, 0, 0, 0), [])


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
        grid = grids.setdefault(box.category, _Grid(rules.iou) if indexed else _Scan(rules.iou))
        best = _best(box, grid.near(box.bbox, rules.iou), rules.iou)
        if best is None:
            best = Group(box.category, box, len(groups))
            grid.add(best)
            groups.append(best)
        best.boxes.append(box)
    return sorted(groups, key=lambda g: (-g.files, -len(g.boxes), g.leader.id))


def _best(box: Box, candidates: list[_Entry], threshold: float) -> Group | None:
    """The group whose first box `box` overlaps most, at least at `threshold`; of two equal
    overlaps, the older group. (`iou` written out: this runs for every box and candidate.)"""
    ax, ay, aw, ah = box.bbox
    ax1, ay1, area = ax + aw, ay + ah, aw * ah
    best: Group | None = None
    best_iou = threshold
    for bx, by, bx1, by1, b_area, group in candidates:
        # conditional expressions, not min()/max(): the calls cost more than the comparisons
        ix = (ax1 if ax1 < bx1 else bx1) - (ax if ax > bx else bx)  # noqa: FURB136
        if ix <= 0:
            continue
        iy = (ay1 if ay1 < by1 else by1) - (ay if ay > by else by)  # noqa: FURB136
        if iy <= 0:
            continue
        inter = ix * iy
        overlap = inter / (area + b_area - inter)
        if overlap < best_iou:
            continue
        if best is None or overlap > best_iou or group.index < best.index:
            best, best_iou = group, overlap
    return best


def suspected_repeats(boxes: Iterable[Box], rules: RepeatRules, location_files: int) -> list[Group]:
    """The groups of one location that look like a fixed object, largest first."""
    return [g for g in group_boxes(boxes, rules) if g.suspected(rules, location_files)]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
