"""What evaluation compares: the detector's boxes for a file and what is really in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NON_EMPTY = "non-empty"


def bbox_of(detection: dict[str, Any]) -> tuple[float, float, float, float]:
    x, y, w, h = detection["bbox"]
    return (float(x), float(y), float(w), float(h))


@dataclass(frozen=True, slots=True)
class Box:
    """`category` is a label (animal/person/vehicle); `bbox` MegaDetector's normalised
    [x_min, y_min, width, height]; `conf` is 1 for a truth box; `frame` the video frame it is
    in (None for a photo, or a truth box not tied to a frame)."""

    category: str
    bbox: tuple[float, float, float, float]
    conf: float = 1.0
    frame: int | None = None


@dataclass(slots=True)
class Predicted:
    file: str
    boxes: list[Box] = field(default_factory=list)
    failed: bool = False

    def score(self, label: str) -> float | None:
        """The best confidence for `label` (any category for non-empty); None: no box."""
        confs = [b.conf for b in self.boxes if label in (NON_EMPTY, b.category)]
        return max(confs, default=None)

    def found(self, threshold: float) -> frozenset[str]:
        return frozenset(b.category for b in self.boxes if b.conf >= threshold)


@dataclass(slots=True)
class Truth:
    """`categories` empty means the file is truly empty. `boxes` None: the truth says what is
    in the file but not where, so the file counts at image level only."""

    file: str
    categories: frozenset[str]
    boxes: list[Box] | None = None


@dataclass
class TruthSet:
    items: dict[str, Truth]
    source: str  # the format it was read from, in words
    notes: list[str] = field(default_factory=list)  # what was read in a particular way
    unusable: dict[str, str] = field(default_factory=dict)  # file -> why it carries no truth
