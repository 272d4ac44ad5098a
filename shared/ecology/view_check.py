"""Cameras that check their own view: a camera that was moved, turned or knocked over faces
something else from then on. Each photo's layout (a 12 x 12 grey thumbnail, measured once by the
model server) is made independent of the light by taking away its mean and dividing by its
spread, so a sunny and a dull frame of one view look alike; two layouts are compared by their
correlation (1: the same picture, about 0: unrelated ones).

Only the empty day frames of a location speak (an animal close to the lens, an infrared night
frame or a black frame is not a change of view). The frames before each possible change point
(up to `WINDOW` of them) are averaged, and so are the frames after it; the view is said to have
changed where the two averages correlate below `CHANGED` while the frames of each side, one by
one, keep close to their own side's average (median at least `STEADY`): a lasting change, not one
odd frame; and the `LEAST` frames either side of the point are each closer to their own side,
so the change is dated to the frame. Of change points closer than `WINDOW` frames the clearest
one is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

LAYOUT_SIDE = 12
WINDOW = 8  # frames averaged either side of a possible change
LEAST = 4  # frames needed on each side before a change is said
CHANGED = 0.5  # the two sides' averages correlate below this
STEADY = 0.8  # while each side's frames keep this close to their own average (median)


def layout_text(grey: np.ndarray) -> str:
    """A LAYOUT_SIDE x LAYOUT_SIDE array of 0-255 levels as hex text (two digits a block)."""
    levels = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return bytes(levels.ravel()).hex()


def layout_vector(text: str | None) -> np.ndarray | None:
    """The layout as a unit vector of zero mean; None for a missing or a flat one (all one
    level: nothing to compare)."""
    if not text or len(text) != 2 * LAYOUT_SIDE * LAYOUT_SIDE:
        return None
    values = np.frombuffer(bytes.fromhex(text), dtype=np.uint8).astype(np.float64)
    values -= values.mean()
    norm = float(np.linalg.norm(values))
    return values / norm if norm > 1e-6 else None


@dataclass(frozen=True)
class ViewFrame:
    card: str  # the job id
    path: str
    captured: datetime
    layout: np.ndarray  # layout_vector's


@dataclass(frozen=True)
class ViewChange:
    first: ViewFrame  # the first frame of the new view
    last_before: ViewFrame  # the last frame of the old one
    frames_after: int  # frames of the new view, up to the next change or the end
    similarity: float  # the two sides' averages, correlated
    steadiness: float  # the lower of the two sides' median closeness to their own average

    @property
    def text(self) -> str:
        return (
            f"the view changed on {self.first.captured.date().isoformat()} (camera moved or "
            f"knocked over?): the empty day frames from {self.first.path} on look unlike those "
            f"up to {self.last_before.path} (similarity {self.similarity:.2f}; "
            f"{self.steadiness:.2f} within each side)"
        )


def _unit(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    mean = mean - mean.mean()
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 1e-6 else mean


def _sided(
    before: np.ndarray, after: np.ndarray, mean_before: np.ndarray, mean_after: np.ndarray
) -> bool:
    """The change is here, not a frame or two off: the last LEAST frames before it are each
    closer to the old view and the first LEAST after it each closer to the new one."""
    old, new = before[-LEAST:], after[:LEAST]
    return bool(
        np.all(old @ mean_before > old @ mean_after)
        and np.all(new @ mean_after > new @ mean_before)
    )


def view_changes(frames: Sequence[ViewFrame]) -> list[ViewChange]:
    """The lasting changes of view among one location's empty day frames, in time order."""
    ordered = sorted(frames, key=lambda f: (f.captured, f.path))
    if len(ordered) < 2 * LEAST:
        return []
    stack = np.stack([f.layout for f in ordered])
    candidates: list[tuple[float, int, float]] = []
    for k in range(LEAST, len(ordered) - LEAST + 1):
        before, after = stack[max(0, k - WINDOW) : k], stack[k : k + WINDOW]
        mean_before, mean_after = _unit(before), _unit(after)
        similarity = float(mean_before @ mean_after)
        steadiness = min(
            float(np.median(before @ mean_before)), float(np.median(after @ mean_after))
        )
        if (
            similarity < CHANGED
            and steadiness >= STEADY
            and _sided(before, after, mean_before, mean_after)
        ):
            candidates.append((similarity, k, steadiness))
    kept: list[tuple[int, float, float]] = []
    for similarity, k, steadiness in sorted(candidates):
        if all(abs(k - other) >= WINDOW for other, _, _ in kept):
            kept.append((k, similarity, steadiness))
    kept.sort()
    found: list[ViewChange] = []
    for i, (k, similarity, steadiness) in enumerate(kept):
        end = kept[i + 1][0] if i + 1 < len(kept) else len(ordered)
        found.append(
            ViewChange(
                ordered[k], ordered[k - 1], end - k, round(similarity, 3), round(steadiness, 3)
            )
        )
    return found
