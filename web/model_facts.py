"""What the installed model can see, for every page: the header's sentence follows the models
the live model servers run (read from their heartbeats once per request), and a job's pages
name the model that ran it, with its classes and threshold."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from redis.exceptions import RedisError

from shared.categories import LABELS
from shared.job_record import JobState
from shared.model_facts import ModelFacts, spoken
from shared.model_servers import live_models
from web import resources

UNKNOWN = "detects wildlife in camera-trap photos and videos"


def installed() -> list[ModelFacts]:
    """The models the live servers run ([] when none runs or Redis cannot be reached)."""
    if "installed_models" not in g:
        try:
            g.installed_models = live_models(resources.redis())
        except RedisError:
            g.installed_models = []
    return list(g.installed_models)


def tagline() -> str:
    """One model: what it finds; several: what any of them finds; none: no promise."""
    models = installed()
    if not models:
        return UNKNOWN
    seen = tuple(label for label in LABELS if any(label in m.classes for m in models))
    return ModelFacts("", seen).finds()


def of_job(state: JobState) -> ModelFacts | None:
    """The facts of the model that ran (or runs) the job; a job of an older release kept its
    model's name alone, so its classes are not known (None)."""
    if not state.model_facts:
        return None
    return ModelFacts.from_json(state.model_facts, state.model)


def init_model_facts(app: Flask) -> None:
    @app.context_processor
    def facts() -> dict[str, Any]:
        return {"model_tagline": tagline, "installed_models": installed, "spoken": spoken}
