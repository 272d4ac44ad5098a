"""Appearance in a card's repeats, as the model server processes the card (after its boxes are
stored, before its outputs are written), with the species embedder (YOLOX-Nano's neck by
default; `shared.repeats.appearance` says how crops are compared):

- the location's rules suppress the card's boxes on their spots, but spare a box whose crop
  looks unlike the rejected group's typical one (an animal standing on the remembered spot);
- each suspected repeat's crops are scored against the group's typical crop, so the Repeats
  page and API flag those probably a real animal, and the group's typical look is kept for the
  rule a reject of it may teach.

Crops come from the uploaded photos (a video's boxes on its kept frame only). A model server
without an embedder suppresses by place alone and scores nothing; nothing else changes."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy import Engine

from model_server.species.classify import ImageSource, on_kept_picture
from model_server.species.crops import crop_box
from model_server.species.embedder import Embedder
from shared.errors import ModelLoadError
from shared.options import JobOptions
from shared.repeats.appearance import APART, Look, group_look
from shared.repeats.grouping import RepeatRules
from shared.store.reads import iter_media, job_row
from shared.store.repeat_data import job_repeats, store_appearance, store_looks
from shared.store.repeat_rules import Rule, suppress_card

log = logging.getLogger(__name__)
MAX_CROPS = 500  # crops embedded per group, spread evenly over it
MIN_CROPS = 5  # fewer say nothing about what is typical
BATCH = 64


@dataclass(frozen=True)
class RepeatSteps:
    """What the batch runs on a card's repeats; `embedder` loads the model on first use."""

    embedder: Callable[[], Embedder]
    rules: RepeatRules

    def _model(self, job_id: str) -> Embedder | None:
        try:
            return self.embedder()
        except ModelLoadError as exc:
            log.info("job %s: repeats are not told apart by appearance: %s", job_id, exc)
            return None

    def suppress(self, engine: Engine, job_id: str, pictures: ImageSource) -> int:
        """The location's rules applied to the card, sparing what looks like an animal."""
        model = self._model(job_id)
        if model is None:
            return suppress_card(engine, job_id)

        def spare(chosen: Mapping[int, list[int]], rules: Mapping[int, Rule]) -> set[int]:
            return spare_animals(engine, job_id, pictures, model, chosen, rules)

        return suppress_card(engine, job_id, spare)

    def score(self, engine: Engine, job_id: str, pictures: ImageSource, threshold: float) -> int:
        model = self._model(job_id)
        if model is None:
            return 0
        return score_job(engine, job_id, pictures, model, self.rules, threshold)


def _embed(embedder: Embedder, crops: list[Image.Image]) -> np.ndarray:
    batches = [embedder.embed(crops[i : i + BATCH]) for i in range(0, len(crops), BATCH)]
    return np.concatenate(batches)


def spare_animals(
    engine: Engine,
    job_id: str,
    pictures: ImageSource,
    embedder: Embedder,
    chosen: Mapping[int, list[int]],
    rules: Mapping[int, Rule],
) -> set[int]:
    """Of the boxes each rule matched, those whose crops look unlike the rule's group (a rule
    learnt without a look, or with another embedder's, spares nothing)."""
    compared = {
        rule_id: ids
        for rule_id, ids in chosen.items()
        if (rules[rule_id].appearance or {}).get("embedder") == embedder.name
    }
    crops = _crops(engine, job_id, pictures, {b for ids in compared.values() for b in ids})
    spared: set[int] = set()
    for rule_id, ids in compared.items():
        mine = [(b, crops[b]) for b in ids if b in crops]
        if not mine:
            continue
        look = Look.from_json(rules[rule_id].appearance or {})
        scores = look.scores(_embed(embedder, [crop for _, crop in mine]))
        spared |= {b for (b, _), s in zip(mine, scores, strict=True) if s > APART}
    if spared:
        log.info("job %s: %d boxes on a rule's spot look like an animal: kept", job_id, len(spared))
    return spared


def score_job(
    engine: Engine,
    job_id: str,
    pictures: ImageSource,
    embedder: Embedder,
    rules: RepeatRules,
    threshold: float,
) -> int:
    """Scores the crops of the card's suspected repeats and keeps each group's typical look;
    returns how many crops were scored."""
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
    crops = _crops(engine, job_id, pictures, set(member))
    scores: dict[int, float] = {}
    looks: dict[int, tuple[str, Look]] = {}
    for at, group in enumerate(groups):
        mine = [(box_id, crop) for box_id, crop in crops.items() if member[box_id] == at]
        if len(mine) < MIN_CROPS:
            continue
        look, found = group_look(_embed(embedder, [crop for _, crop in mine]))
        scores.update(zip((box_id for box_id, _ in mine), found, strict=True))
        looks[group.group.leader.id] = (embedder.name, look)
    store_appearance(engine, scores)
    store_looks(engine, looks)
    return len(scores)


def _crops(
    engine: Engine, job_id: str, pictures: ImageSource, wanted: set[int]
) -> dict[int, Image.Image]:
    """The crops of the wanted boxes, each picture opened once."""
    found: dict[int, Image.Image] = {}
    if not wanted:
        return found
    for record in iter_media(engine, job_id):
        mine = [
            d for d in record.detections if d.get("id") in wanted and on_kept_picture(record, d)
        ]
        if not mine:
            continue
        picture = pictures(record)
        if picture is None:
            continue
        for d in mine:
            crop = crop_box(picture, d["bbox"])
            if crop is not None:
                found[int(d["id"])] = crop
    return found
