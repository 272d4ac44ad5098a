"""A job's suspected repeated false alarms (a branch, a rock, a post the detector fires on file
after file), for scripts and the Repeats page: grouped location by location from the stored
boxes at the job's threshold, with the job's event gap and camera folder level (or others in
the query, as the events API takes them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify

from shared.store.reads import job_row
from shared.store.repeat_data import job_repeats
from web import resources
from web.events import event_options
from web.results import job_threshold, missing, store

bp = Blueprint("repeats", __name__)


@bp.get("/api/jobs/<job_id>/repeats")
def job_repeat_groups(job_id: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    gap, level = event_options(job_row(store(), job_id))
    rules = resources.settings().repeat_rules()
    found = job_repeats(store(), job_id, rules, threshold=threshold, gap_seconds=gap, level=level)
    return jsonify(
        threshold=threshold,
        event_gap=gap,
        deployment_level=level,
        rules=asdict(rules),
        groups=[g.public() for g in found],
    )
