"""Appearance within each suspected repeat of a card: its boxes' crops embedded (the species
embedder: YOLOX-Nano's neck by default) and each scored against the group's typical crop
(`shared.repeats.appearance`), stored on the box so the Repeats page and API can flag those
that are probably a real animal. Runs as the card is processed, after the location's rules have
suppressed what they know, from the uploaded photos (a video's boxes on its kept frame only). A
model server without an embedder leaves the scores empty; nothing else changes."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
from PIL import Image
from sqlalchemy import Engine

from model_server.species.classify import ImageSource, on_kept_picture
from model_server.species.crops import crop_box
from model_server.species.embedder import Embedder
from shared.errors import ModelLoadError
from shared.options import JobOptions
from shared.repeats.appearance import apart_scores
from shared.repeats.grouping import RepeatRules
from shared.store.reads import iter_media, job_row
from shared.store.repeat_data import job_repeats, store_appearance

log = logging.getLogger(__name__)
MAX_CROPS = 500  # crops embedded per group, spread evenly over it
MIN_CROPS = 5  # fewer say nothing about what is typical
BATCH = 64

# What the batch calls once the boxes are stored: (store, job id, pictures, threshold)
AppearanceStep = Callable[[Engine, str, ImageSource, float], object]


def appearance_step(embedder: Callable[[], Embedder], rules: RepeatRules) -> AppearanceStep:
    def step(store: Engine, job_id: str, pictures: ImageSource, threshold: float) -> object:
        try:
            model = embedder()
        except ModelLoadError as exc:
            log.info("job %s: repeats are not told apart by appearance: %s", job_id, exc)
            return None
        return score_job(store, job_id, pictures, model, rules, threshold)

    return step


def score_job(
    engine: Engine,
    job_id: str,
    pictures: ImageSource,
    embedder: Embedder,
    rules: RepeatRules,
    threshold: float,
) -> int:
    """Scores the crops of the card's suspected repeats; returns how many were scored."""
    job = job_row(engine, job_id)
    options = JobOptions.from_json(job.options if job is not None else None)
    groups = job_repeats(
        engine, job_id, rules, threshold=threshold, gap_seconds=options.gap, level=options.level
    )
    member: dict[int, int] = {}  # box id -> its group's position
    for at, group in enumerate(groups):
        boxes = group.group.boxes
        step = max(1, math.ceil(len(boxes) / MAX_CROPS))
        member.update((b.id, at) for b in boxes[::step][:MAX_CROPS])
    if not member:
        return 0
    crops = _crops(engine, job_id, pictures, member)
    scores: dict[int, float] = {}
    for at in range(len(groups)):
        mine = [(box_id, crop) for box_id, crop in crops.items() if member[box_id] == at]
        if len(mine) < MIN_CROPS:
            continue
        vectors = np.concatenate(
            [
                embedder.embed([crop for _, crop in mine[i : i + BATCH]])
                for i in range(0, len(mine), BATCH)
            ]
        )
        scores.update(zip((box_id for box_id, _ in mine), apart_scores(vectors), strict=True))
    store_appearance(engine, scores)
    return len(scores)


def _crops(
    engine: Engine, job_id: str, pictures: ImageSource, member: dict[int, int]
) -> dict[int, Image.Image]:
    """The crops of the wanted boxes, each picture opened once."""
    found: dict[int, Image.Image] = {}
    for record in iter_media(engine, job_id):
        wanted = [
            d for d in record.detections if d.get("id") in member and on_kept_picture(record, d)
        ]
        if not wanted:
            continue
        picture = pictures(record)
        if picture is None:
            continue
        for d in wanted:
            crop = crop_box(picture, d["bbox"])
            if crop is not None:
                found[int(d["id"])] = crop
    return found
