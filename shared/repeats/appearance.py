"""Telling an animal that stands where a branch is from the branch: within one suspected repeat,
each crop's embedding is compared with the group's typical crop, dimension by dimension.

A crop's score is the share of the embedding's dimensions in which it is an outlier of its
group: further from the group's typical crop than `Z` robust standard deviations (per dimension,
the median and the median absolute deviation times 1.4826, with a floor so a group of identical
crops does not divide by zero). The typical crop and the spread are worked out twice: over all
the crops, then again over those that scored `APART` or less, so that the animals themselves do
not widen what counts as typical (with 11 animals among 30 branch crops, one pass lets three of
them hide). A branch's crops vary together with light and weather and are outliers in few
dimensions; a crop of something else in a large share of them. A box scoring over `APART` is
flagged as "probably a real animal" in its group.

Why not the cosine distance to the median crop: the detector's neck features of two small crops
are close in angle whatever they show (0.000 to 0.002 between a branch's crops, 0.005 to 0.021
for animals' on the shared ENA24 frames), so no one distance splits them; the share of outlying
dimensions does. Measured with the YOLOX-Nano neck (`benchmarks/bench_repeat_appearance.py`,
figures in the README): a bark "branch" from a real ENA24 frame in 30 files, its brightness
from 0.5 to 1.4 times and a third of them grey (night), and 4 or 11 real ENA24 animals in its
place, as bare crops and framed in red at 160 x 120 as the tests' stand-in detector boxes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

APART = 0.3  # a crop outlying in more than this share of dimensions is probably not the object
Z = 3.0  # robust standard deviations from the group's median: an outlying dimension
FLOOR = 1e-4  # the least spread a dimension is taken to have


@dataclass(frozen=True)
class Look:
    """A group's typical crop, dimension by dimension: what a later crop is compared with (a
    location's rule keeps its group's, so an animal on a remembered spot is not suppressed)."""

    median: np.ndarray
    spread: np.ndarray  # robust standard deviation, at least FLOOR

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """One score per row: the share of dimensions further than Z spreads from typical."""
        if len(vectors) == 0:
            return np.zeros(0)
        return np.mean(np.abs(vectors - self.median) > Z * self.spread, axis=1)

    def public(self) -> dict[str, list[float]]:
        return {"median": self.median.tolist(), "spread": self.spread.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Look:
        return cls(np.asarray(data["median"], dtype=float), np.asarray(data["spread"], dtype=float))


def looks_apart(score: float | None) -> bool:
    """Whether a crop's score (None: not measured) says it is probably not the group's object."""
    return score is not None and score > APART


def _look(vectors: np.ndarray) -> Look:
    median = np.median(vectors, axis=0)
    spread = np.median(np.abs(vectors - median), axis=0) * 1.4826
    return Look(median, np.maximum(spread, FLOOR))


def group_look(vectors: np.ndarray) -> tuple[Look, np.ndarray]:
    """The group's typical look and each crop's score (one row of `vectors` per crop)."""
    look = _look(vectors)
    first = look.scores(vectors)
    typical = first <= APART
    if typical.sum() < max(3, len(vectors) // 2):  # no clear majority: keep the first pass
        return look, first
    look = _look(vectors[typical])
    return look, look.scores(vectors)


def apart_scores(vectors: np.ndarray) -> np.ndarray:
    """One score per row of `vectors` (one embedding per crop of one group), from 0 to 1."""
    if len(vectors) == 0:
        return np.zeros(0)
    return group_look(vectors)[1]
