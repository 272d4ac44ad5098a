"""Species on a finished job: classify its animal boxes with a class set (again, or with another
set) without running the detector, and learn from its review — the boxes a reviewer named join
the set, and the job's unreviewed boxes are classified again with the grown set."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for

from shared.contract import JobKind, JobStatus, TransitionRefused, enqueue_job
from shared.people.projects import place_of
from shared.store.class_sets import list_sets
from shared.store.species_data import classification_of
from web import job_status, resources
from web.answers import answer
from web.audit_trail import note_job
from web.classes import usable_set
from web.errors import Refusal

bp = Blueprint("species_jobs", __name__)
NO_PICTURES = (
    "Not started: this job was run for the reports only, so no pictures of its boxes "
    "were kept to classify or learn from (the upload is removed once a job ends). "
    "Upload the photos again with a class set chosen."
)


def species_context(job_id: str, reports_only: bool) -> dict[str, Any]:
    """What the job page's species section shows."""
    engine = resources.results_store()
    project_id = place_of(engine, job_id).project_id
    usable = list_sets(engine, [project_id] if project_id is not None else [])
    return {
        "classified": classification_of(engine, job_id),
        "no_pictures": reports_only,
        "class_sets": [row.name for row, classes in usable if classes],
    }


def _back(job_id: str) -> str:
    return url_for("jobs.page", job_id=job_id) + "#species"


def _flag(body: Any, name: str) -> bool:
    value = body.get(name)
    return value is True or str(value).strip().lower() in ("1", "on", "true", "yes")


@bp.post("/api/jobs/<job_id>/classify")
def classify(job_id: str) -> Any:
    """`class_set` (a set's name), `learn` (first add this job's reviewed species boxes to the
    set), `unreviewed_only` (leave reviewed files' suggestions as they are; implied by learn)."""
    state = job_status.job_or_404(job_id)
    if state.options.reports_only:
        raise Refusal(NO_PICTURES, 409, page=_back(job_id))
    body = (request.get_json(silent=True) or {}) if request.is_json else request.form
    name = str(body.get("class_set") or "").strip()
    project_id = place_of(resources.results_store(), job_id).project_id
    if not name or usable_set(name, project_id) is None:
        raise Refusal(
            f"Not started: there is no class set named {name!r}.", 400, page=_back(job_id)
        )
    learn = _flag(body, "learn")
    request_ = {
        "set": name,
        "learn": learn,
        "unreviewed_only": learn or _flag(body, "unreviewed_only"),
    }
    if state.status is not JobStatus.FINISHED:
        raise Refusal(f"Not started: the job is {state.status.value}.", 409, page=_back(job_id))
    try:
        enqueue_job(resources.redis(), state, kind=JobKind.CLASSIFY, request={"classify": request_})
    except TransitionRefused as exc:
        raise Refusal(f"Not started: {exc}.", 409, page=_back(job_id)) from exc
    note_job(job_id, "classify", {"class_set": name, "learn": learn})
    what = (
        "Learning from this job's review, then classifying its unreviewed animals"
        if learn
        else "Classifying this job's animals"
    )
    return answer(202, f"{what} with {name!r}; the reports are then made again.", _back(job_id))
