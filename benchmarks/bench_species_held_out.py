"""How often species suggestions are right on boxes from events and cameras the class set never
saw: every labelled animal box among the shared photos (`benchmarks.species_truth`) is asked of
a set taught from all the other groups (`shared.species.held_out`), with top-1, top-2 and
"unknown" per species beside its count of boxes and events, and the same split for the ways of
cutting, embedding and calibrating that were tried. Accuracy figures, not timings: one run.

    python -m benchmarks.bench_species_held_out
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from benchmarks.bench_pipeline import REPO
from benchmarks.species_truth import LabelledPhoto, labelled_photos
from model_server.detectors import load_detector
from model_server.species.crops import crop_box
from model_server.species.embedder import Embedder, load_embedder
from shared.species.classifier import SPREAD_FACTOR, ClassSet, normalised
from shared.species.held_out import HeldOutReport, LabelledBox, Teacher, evaluate_held_out

EMBEDDER = REPO.parent / "shared" / "models" / "yolox_nano.onnx"
DETECTOR = REPO / "models" / "megadetector_lite_yolox_tiny_640.tflite"


@dataclass(frozen=True)
class Way:
    label: str
    margin: float = 0.0  # of the box's size, added on each side
    flip: bool = False  # the mirrored crop's vector averaged in
    spread_factor: float = SPREAD_FACTOR


WAYS = [
    Way("today: the box as cut"),
    Way("'unknown' at 1 x the examples' spread, not 2", spread_factor=1.0),
    Way("10 % margin around the box", margin=0.1),
    Way("25 % margin", margin=0.25),
    Way("mirrored crop averaged in", flip=True),
    Way("10 % margin, mirrored crop averaged in", margin=0.1, flip=True),
]


def vectors(embedder: Embedder, photos: list[LabelledPhoto], way: Way) -> np.ndarray:
    crops: list[Image.Image] = []
    for photo in photos:
        crop = crop_box(photo.image, photo.bbox, way.margin)
        if crop is None:
            raise ValueError(f"{photo.source}: its box is under 8 pixels")
        crops.append(crop)
    found = embedder.embed(crops)
    if way.flip:
        found = normalised(found + embedder.embed([ImageOps.mirror(c) for c in crops]))
    return found


def teacher(spread_factor: float) -> Teacher:
    def teach(examples: dict[str, np.ndarray]) -> Callable:
        return ClassSet(dict(examples), spread_factor=spread_factor).classify

    return teach


def evaluate(embedder: Embedder, photos: list[LabelledPhoto], way: Way) -> HeldOutReport:
    boxes = [
        LabelledBox(p.species, p.event, p.camera, v)
        for p, v in zip(photos, vectors(embedder, photos, way), strict=True)
    ]
    return evaluate_held_out(boxes, teacher(way.spread_factor))


def per_class(report: HeldOutReport) -> list[str]:
    head = (
        f"{'species':<22} {'boxes':>5} {'events':>6} {'asked':>5} {'top-1':>6} {'top-2':>6} "
        f"{'unknown':>7} {'new: unknown':>12}  named instead"
    )
    lines = [head]
    for species, f in sorted(report.classes.items()):
        new = f"{f.new_unknown}/{f.new_trials}" if f.new_trials else ""
        wrong = ", ".join(f"{n} {c}" for n, c in sorted(f.named_as.items()))
        lines.append(
            f"{species:<22} {f.boxes:>5} {f.events:>6} {f.trials:>5} "
            f"{f.top1:>6} {f.top2:>6} {f.unknown:>7} {new:>12}  {wrong}"
        )
    return lines


def summary(label: str, report: HeldOutReport) -> str:
    t = report.totals()
    wrong = t.trials - t.top1 - t.unknown
    return (
        f"{label:<46} top-1 {t.top1:>2}/{t.trials}  top-2 {t.top2:>2}/{t.trials}  "
        f"unknown {t.unknown:>2}  named wrong {wrong:>2}  new species 'unknown' "
        f"{t.new_unknown:>2}/{t.new_trials}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", type=Path, default=EMBEDDER)
    parser.add_argument(
        "--detector", type=Path, default=DETECTOR, help="finds the boxes of photos without any"
    )
    args = parser.parse_args(argv)
    detector = load_detector(args.detector)
    try:
        photos = labelled_photos(detector)
    finally:
        detector.close()
    embedder = load_embedder(args.embedder)
    reports = [(way, evaluate(embedder, photos, way)) for way in WAYS]
    first = reports[0][1]
    print(f"embedder: {embedder.name}; boxes of photos without boxes: {detector.info.name}")
    print(
        f"{len(photos)} labelled boxes of {len(first.classes)} species in {first.groups} groups "
        f"held out one at a time (a group: the boxes linked by an event or a camera)"
    )
    print(f"chance (top-1, guessing among the classes taught): {first.chance():.3f}")
    print()
    print(WAYS[0].label)
    print("\n".join(per_class(first)))
    print()
    for way, report in reports:
        print(summary(way.label, report))


if __name__ == "__main__":
    main()
