"""Species suggestions for a job's animal boxes from a class set: each box cut from its photo,
embedded, and given the nearest class (or "unknown") with its distance and runner-up. The same
code runs inside the detect job (crops from the uploaded photos) and on a finished job (crops from
the web renditions the store keeps), so another class set never needs the detector again. A
video's suggestions come from its best frame, the picture the store keeps of it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import Engine

from model_server.species.crops import crop_box
from model_server.species.embedder import Embedder
from shared.species.classifier import UNKNOWN, ClassSet, Suggestion
from shared.store.class_sets import SetRow, load_classes
from shared.store.reads import iter_media
from shared.store.records import MediaRecord
from shared.store.species_data import clear_suggestions, record_classification, store_suggestions

log = logging.getLogger(__name__)
BATCH = 64  # boxes embedded and written together
ImageSource = Callable[[MediaRecord], Image.Image | None]


@dataclass(frozen=True)
class SpeciesRun:
    """A class set ready to classify with: its row, classifier and the embedding model."""

    set: SetRow
    classes: ClassSet
    embedder: Embedder

    @classmethod
    def load(cls, engine: Engine, row: SetRow, embedder: Embedder) -> SpeciesRun:
        if row.embedder != embedder.name:
            raise ValueError(
                f"the class set {row.name!r} was taught with {row.embedder}; this "
                f"model server embeds with {embedder.name}"
            )
        classes = load_classes(engine, row.id, row.overrides)
        if not classes.examples:
            raise ValueError(f"the class set {row.name!r} has no classes yet")
        return cls(row, classes, embedder)


@dataclass
class Tally:
    boxes: int = 0
    unknown: int = 0
    no_picture: int = 0  # boxes whose picture was not kept (a reports-only job)
    species: dict[str, int] = field(default_factory=dict)


def on_kept_picture(record: MediaRecord, d: dict[str, Any]) -> bool:
    """Whether the box is on the picture the store keeps of its file: a photo's boxes, and a
    video's on its best frame (the one shown for it; the other frames keep thumbnails only)."""
    frame = d.get("frame")
    return frame is None or (record.video or {}).get("best_frame") == frame


def animal_boxes(record: MediaRecord, threshold: float) -> list[dict[str, Any]]:
    """The boxes a species is wanted for: the detector's animals at the threshold that no
    reviewer rejected, and animals a reviewer drew or changed to animal, on the kept picture."""
    found = []
    for d in record.detections:
        if d.get("verdict") == "rejected" or not on_kept_picture(record, d):
            continue
        category = d.get("verified_category") or d["category"]
        machine_kept = d.get("source", "machine") == "machine" and d["conf"] >= threshold
        if category == "1" and (machine_kept or d.get("verdict") in ("added", "changed")):
            found.append(d)
    return found


def classify_job(
    engine: Engine,
    job_id: str,
    run: SpeciesRun,
    open_image: ImageSource,
    threshold: float,
    *,
    unreviewed_only: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> Tally:
    """Classifies the job's animal boxes (only those of unreviewed media with
    `unreviewed_only`) and stores the suggestions; the old suggestions there are forgotten."""
    clear_suggestions(engine, job_id, unreviewed_only=unreviewed_only)
    tally = Tally()
    ready = run.classes.prepared()
    for chunk in _chunks(_crops(engine, job_id, open_image, threshold, unreviewed_only, tally)):
        if should_stop():
            break
        vectors = run.embedder.embed([crop for _, crop in chunk])
        answers = ready.classify(np.asarray(vectors))
        store_suggestions(engine, [(det, s) for (det, _), s in zip(chunk, answers, strict=True)])
        _count(tally, answers)
    record_classification(
        engine,
        job_id,
        {
            "set": run.set.name,
            "embedder": run.embedder.name,
            "classes": sorted(run.classes.examples),
            "thresholds": {
                n: round(float(limit), 6)
                for n, limit in zip(ready.names, ready.limits, strict=True)
            },
            "boxes": tally.boxes,
            "unknown": tally.unknown,
            "no_picture": tally.no_picture,
            "unreviewed_only": unreviewed_only,
        },
    )
    log.info(
        "job %s: %d animal boxes classified with %r (%d unknown, %d without a picture)",
        job_id,
        tally.boxes,
        run.set.name,
        tally.unknown,
        tally.no_picture,
    )
    return tally


def _count(tally: Tally, answers: list[Suggestion]) -> None:
    for s in answers:
        tally.boxes += 1
        tally.unknown += s.species == UNKNOWN
        tally.species[s.species] = tally.species.get(s.species, 0) + 1


def _crops(
    engine: Engine,
    job_id: str,
    open_image: ImageSource,
    threshold: float,
    unreviewed_only: bool,
    tally: Tally,
) -> Iterator[tuple[int, Image.Image]]:
    for record in iter_media(engine, job_id):
        if record.failure is not None or (unreviewed_only and record.review):
            continue
        boxes = animal_boxes(record, threshold)
        if not boxes:
            continue
        image = open_image(record)
        if image is None:
            tally.no_picture += len(boxes)
            continue
        for d in boxes:
            crop = crop_box(image, d["bbox"])
            if crop is not None:
                yield d["id"], crop


def _chunks(crops: Iterator[tuple[int, Image.Image]]) -> Iterator[list[tuple[int, Image.Image]]]:
    chunk: list[tuple[int, Image.Image]] = []
    for item in crops:
        chunk.append(item)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
