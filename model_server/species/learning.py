"""Learning from review: the boxes a reviewer named (a suggestion accepted or a species typed)
become examples of those classes, cropped from the job's web renditions. A box learned once is
not learned again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from model_server.species.classify import ImageSource, on_kept_picture
from model_server.species.crops import ExampleBatcher, crop_box
from model_server.species.embedder import Embedder
from shared.species.classifier import UNKNOWN
from shared.store.class_sets import (
    ClassSetError,
    SetRow,
    add_examples,
    check_species,
    learned_detections,
)
from shared.store.reads import iter_media
from shared.store.records import KEPT_VERDICTS


def learn_from_review(
    engine: Engine,
    job_id: str,
    target: SetRow,
    embedder: Embedder,
    pictures: ImageSource,
    crop_dir: Path,
    now: datetime,
) -> int:
    """Adds the job's reviewed animal boxes that carry a species to `target`; returns how
    many examples were added."""
    done = learned_detections(engine, target.id)
    batcher = ExampleBatcher(embedder, crop_dir)
    for record in iter_media(engine, job_id, reviewed_only=True):
        named = [
            d
            for d in record.detections
            if d.get("verdict") in KEPT_VERDICTS
            and d.get("species")
            and (d.get("verified_category") or d["category"]) == "1"
            and d["id"] not in done
            and on_kept_picture(record, d)
        ]
        image = pictures(record) if named else None
        if image is None:
            continue
        for d in named:
            try:
                species = check_species(d["species"])
            except ClassSetError:
                continue
            crop = crop_box(image, d["bbox"])
            if crop is not None and species != UNKNOWN:
                batcher.add(species, f"job {job_id}: {record.file}", crop, d["id"])
    return add_examples(engine, target.id, batcher.flush(), now)
