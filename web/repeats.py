"""A job's suspected repeated false alarms (a branch, a rock, a post the detector fires on file
after file), for scripts and the Repeats page: grouped location by location from the stored
boxes at the job's threshold, with the job's event gap and camera folder level (or others in
the query, as the events API takes them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify

from shared.store.group_review import judge_group
from shared.store.reads import job_row
from shared.store.repeat_data import RepeatGroup, job_repeats
from web import resources
from web.access import now
from web.errors import Refusal
from web.events import event_options
from web.results import job_threshold, missing, store

bp = Blueprint("repeats", __name__)


def job_groups(job_id: str, threshold: float) -> tuple[list[RepeatGroup], dict[str, Any]]:
    """The job's suspected repeats as the settings and the query define them, and those terms."""
    gap, level = event_options(job_row(store(), job_id))
    rules = resources.settings().repeat_rules()
    found = job_repeats(store(), job_id, rules, threshold=threshold, gap_seconds=gap, level=level)
    terms = {"event_gap": gap, "deployment_level": level, "rules": asdict(rules)}
    return found, terms


def judge_job_group(job_id: str, body: dict[str, Any], reviewer: str, user_id: int | None) -> Any:
    """reject_group or keep_group on one of the job's suspected repeats, by its id."""
    threshold = job_threshold(job_id)
    assert threshold is not None  # the caller checked the job
    found, _ = job_groups(job_id, threshold)
    wanted = str(body.get("group", ""))
    group = next((g for g in found if g.id == wanted), None)
    if group is None:
        raise Refusal(f"This job has no suspected repeat {wanted!r}.", 404)
    return judge_group(
        store(), job_id, str(body["action"]), group.id, group.box_ids(), reviewer, now(), user_id
    )


@bp.get("/api/jobs/<job_id>/repeats")
def job_repeat_groups(job_id: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    found, terms = job_groups(job_id, threshold)
    return jsonify(threshold=threshold, **terms, groups=[g.public() for g in found])
