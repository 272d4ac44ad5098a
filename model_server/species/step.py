"""The detect job's species step: the class set the uploader chose, classifying the job's animal
boxes before its outputs are written. A set that is gone, empty or taught with another embedding
model does not fail the job: the detections stand, and the job's options say why there are no
species."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from model_server.species.classify import ImageSource, SpeciesRun, classify_job
from model_server.species.embedder import Embedder
from shared.errors import ModelLoadError
from shared.store.class_sets import get_set
from shared.store.species_data import record_classification

# What the batch calls once the boxes are stored: (store, job id, pictures, threshold)
SpeciesStep = Callable[[Engine, str, ImageSource, float], object]

log = logging.getLogger(__name__)


def species_run(engine: Engine, set_name: str, embedder: Callable[[], Embedder]) -> SpeciesRun:
    """The named set ready to classify with; ValueError or ModelLoadError saying why not."""
    row = get_set(engine, set_name)
    if row is None:
        raise ValueError(f"there is no class set named {set_name!r}")
    return SpeciesRun.load(engine, row, embedder())


def species_step(
    engine: Engine, set_name: str, embedder: Callable[[], Embedder]
) -> Callable[[Engine, str, ImageSource, float], object]:
    def step(store: Engine, job_id: str, pictures: ImageSource, threshold: float) -> object:
        try:
            run = species_run(engine, set_name, embedder)
        except (ValueError, ModelLoadError) as exc:
            log.warning("job %s: no species suggestions: %s", job_id, exc)
            record_classification(store, job_id, {"set": set_name, "error": str(exc)})
            return None
        return classify_job(store, job_id, run, pictures, threshold)

    return step
