"""Precision, recall and F1 per category at one threshold, at image level and box level; the
confusion of image outcomes; precision-recall curves; the threshold that reaches a recall.

Conventions (the README states them): a box counts when its confidence is at or above the
threshold, as everywhere in Trapline; image level ignores where the boxes are; box level pairs
each detection, most confident first, with the unpaired truth box of its category it overlaps
most, and counts the pair when their intersection over union is at least 0.5."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.categories import LABELS
from shared.evaluation.model import NON_EMPTY, Box, Predicted, Truth

IOU_MATCH = 0.5
FEW_IMAGES = 50  # below this the page warns that the figures are rough
CURVE_POINTS = 200  # a curve is thinned to about this many points for charts and JSON

Pair = tuple[Predicted, Truth]
# (label, threshold) -> how many images of the whole job the detector flags at that threshold
Flagged = Callable[[str, float], int]


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def f1_of(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Counts:
    true_positives: int
    false_positives: int
    misses: int
    images: int

    def row(self, category: str) -> dict[str, Any]:
        precision = ratio(self.true_positives, self.true_positives + self.false_positives)
        recall = ratio(self.true_positives, self.true_positives + self.misses)
        return {
            "category": category,
            "precision": precision,
            "recall": recall,
            "f1": f1_of(precision, recall),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "misses": self.misses,
            "images": self.images,
        }


def _has(categories: frozenset[str], label: str) -> bool:
    return bool(categories) if label == NON_EMPTY else label in categories


def image_counts(pairs: Sequence[Pair], label: str, threshold: float) -> Counts:
    tp = fp = fn = 0
    for predicted, truth in pairs:
        found = _has(predicted.found(threshold), label)
        real = _has(truth.categories, label)
        tp += found and real
        fp += found and not real
        fn += real and not found
    return Counts(tp, fp, fn, len(pairs))


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _of(boxes: list[Box], label: str) -> list[Box]:
    return [b for b in boxes if label in (NON_EMPTY, b.category)]


def box_counts(pairs: Sequence[Pair], label: str, threshold: float) -> Counts | None:
    """None when no file's truth has boxes."""
    boxed = [(p, t.boxes) for p, t in pairs if t.boxes is not None]
    if not boxed:
        return None
    tp = fp = fn = 0
    for predicted, truth_boxes in boxed:
        open_truth = _of(truth_boxes, label)
        detections = sorted(
            (b for b in _of(predicted.boxes, label) if b.conf >= threshold), key=lambda b: -b.conf
        )
        for det in detections:
            # in a video, a box matches only a truth box of its own frame
            here = [t for t in open_truth if None in (t.frame, det.frame) or t.frame == det.frame]
            best = max(here, key=lambda t: iou(det.bbox, t.bbox), default=None)
            if best is not None and iou(det.bbox, best.bbox) >= IOU_MATCH:
                open_truth.remove(best)
                tp += 1
            else:
                fp += 1
        fn += len(open_truth)
    return Counts(tp, fp, fn, len(boxed))


def confusion(pairs: Sequence[Pair], threshold: float) -> dict[str, dict[str, int]]:
    """rows: what is really there; columns: what the detector said. An image with an animal
    and a person is counted in both rows (and likewise for columns)."""
    names = (*LABELS, "empty")
    table = {row: dict.fromkeys(names, 0) for row in names}
    for predicted, truth in pairs:
        found = predicted.found(threshold) or frozenset({"empty"})
        for real in truth.categories or frozenset({"empty"}):
            for said in found:
                table[real][said] += 1
    return table


def full_curve(pairs: Sequence[Pair], label: str) -> list[dict[str, float]]:
    """(threshold, precision, recall) at every distinct confidence, highest threshold first;
    empty when nothing of `label` is really there."""
    positives = sum(_has(t.categories, label) for _, t in pairs)
    if positives == 0:
        return []
    scored = sorted(
        ((s, _has(t.categories, label)) for p, t in pairs if (s := p.score(label)) is not None),
        key=lambda x: -x[0],
    )
    points: list[dict[str, float]] = []
    tp = fp = 0
    for i, (score, real) in enumerate(scored):
        tp += real
        fp += not real
        if i + 1 == len(scored) or scored[i + 1][0] != score:
            points.append(
                {"threshold": score, "precision": tp / (tp + fp), "recall": tp / positives}
            )
    return points


def thinned(points: list[dict[str, float]], most: int = CURVE_POINTS) -> list[dict[str, float]]:
    if len(points) <= most:
        return points
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def flagged_among(predicted: Sequence[Predicted]) -> Flagged:
    """Counts, among `predicted`, the images with a box of a label at or above a threshold."""

    def count(label: str, threshold: float) -> int:
        return sum(_has(p.found(threshold), label) for p in predicted)

    return count


def recall_target(
    pairs: Sequence[Pair], label: str, target: float, flagged: Flagged | None = None
) -> dict[str, Any]:
    """The highest threshold (cut down to three decimals, so never above it) at which the
    detector finds `target` of the images that really have `label`, and what that costs: the
    images it flags for review at that threshold (over the whole job when `flagged` says)."""
    curve = full_curve(pairs, label)
    answer: dict[str, Any] = {
        "category": label,
        "target": target,
        "threshold": None,
        "best_recall": max((p["recall"] for p in curve), default=None),
    }
    reached = next((p for p in curve if p["recall"] >= target), None)
    if reached is None:
        return answer
    threshold = max(math.floor(reached["threshold"] * 1000) / 1000, 0.001)
    counts = image_counts(pairs, label, threshold).row(label)
    count = flagged or flagged_among([p for p, _ in pairs])
    answer.update(
        threshold=threshold,
        recall=counts["recall"],
        precision=counts["precision"],
        images_to_review=count(label, threshold),
    )
    return answer


def evaluate(
    pairs: Sequence[Pair],
    threshold: float,
    *,
    recall: float | None = None,
    recall_label: str = "animal",
    flagged: Flagged | None = None,
) -> dict[str, Any]:
    """Every figure for the pairs at `threshold`, as plain JSON values."""
    labels = (*LABELS, NON_EMPTY)
    boxes = [box_counts(pairs, label, threshold) for label in labels]
    report: dict[str, Any] = {
        "threshold": threshold,
        "iou": IOU_MATCH,
        "images": len(pairs),
        "warning": few_images_warning(len(pairs)),
        "categories": [image_counts(pairs, label, threshold).row(label) for label in labels],
        "boxes": [c.row(label) for c, label in zip(boxes, labels, strict=True) if c],
        "confusion": confusion(pairs, threshold),
        "curves": {label: thinned(full_curve(pairs, label)) for label in labels},
        "recall_target": None,
    }
    if recall is not None:
        report["recall_target"] = recall_target(pairs, recall_label, recall, flagged)
    return report


def few_images_warning(images: int) -> str:
    if images >= FEW_IMAGES:
        return ""
    if images == 0:
        return (
            "No image could be compared: nothing the results name was found in the truth "
            "(see the files listed as not paired)."
        )
    return (
        f"These figures rest on {images} image(s) only: with fewer than {FEW_IMAGES} they "
        f"can change a lot with each image added. Review more before reporting them."
    )
