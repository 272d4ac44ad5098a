"""Species on a finished job: classify its animal boxes with a class set (again, or with another
set) without running the detector, and learn from its review — the boxes a reviewer named join
the set, and the job's unreviewed boxes are classified again with the grown set."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from shared.contract import JobKind, JobStatus, TransitionRefused, enqueue_job
from shared.people.projects import job_ids_of, place_of
from shared.people.roles import Can
from shared.store.class_sets import list_sets
from shared.store.species_data import classification_of
from web import job_status, resources
from web.answers import answer
from web.audit_trail import note, note_job
from web.classes import usable_set
from web.errors import Refusal
from web.projects import project_for
from web.request_body import body_fields

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


def _classify_request(body: Any, project_id: int | None, back: str | None) -> dict[str, Any]:
    """The request a classify follow-up carries, from a form or JSON body."""
    name = str(body.get("class_set") or "").strip()
    if not name or usable_set(name, project_id) is None:
        raise Refusal(f"Not started: there is no class set named {name!r}.", 400, page=back)
    learn = _flag(body, "learn")
    return {"set": name, "learn": learn, "unreviewed_only": learn or _flag(body, "unreviewed_only")}


def _body() -> Any:
    return body_fields()


@bp.post("/api/jobs/<job_id>/classify")
def classify(job_id: str) -> Any:
    """`class_set` (a set's name), `learn` (first add this job's reviewed species boxes to the
    set), `unreviewed_only` (leave reviewed files' suggestions as they are; implied by learn)."""
    state = job_status.job_or_404(job_id)
    if state.options.reports_only:
        raise Refusal(NO_PICTURES, 409, page=_back(job_id))
    project_id = place_of(resources.results_store(), job_id).project_id
    request_ = _classify_request(_body(), project_id, _back(job_id))
    name, learn = request_["set"], request_["learn"]
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


@bp.post("/api/projects/<int:project_id>/classify")
def classify_project(project_id: int) -> Any:
    """Every finished card of the project with pictures kept gets the same classify follow-up
    (each fenced and recovered on its own card); the answer says which were queued and why the
    others were not. With `learn`, cards are taught and classified in upload order, each with
    what the set knows by then: run it again without `learn` to classify every card with all
    of it."""
    project, _, _ = project_for(project_id, Can.REVIEW)
    back = url_for("projects.page", project_id=project.id)
    request_ = _classify_request(_body(), project.id, back)
    queued: list[str] = []
    skipped: list[dict[str, str]] = []
    for job_id in job_ids_of(resources.results_store(), project.id):
        state = job_status.find_job(job_id)
        why = (
            "its record has lapsed"
            if state is None
            else f"it is {state.status.value}"
            if state.status is not JobStatus.FINISHED
            else "it was run for the reports only"
            if state.options.reports_only
            else ""
        )
        if state is not None and not why:
            try:
                enqueue_job(
                    resources.redis(), state, kind=JobKind.CLASSIFY, request={"classify": request_}
                )
                queued.append(job_id)
                continue
            except TransitionRefused as exc:
                why = str(exc)
        skipped.append({"job": job_id, "why": why})
    if not queued:
        raise Refusal("Not started: no card of the project can be classified now.", 409, page=back)
    note(
        project.id,
        "classify",
        {"class_set": request_["set"], "learn": request_["learn"], "cards": len(queued)},
    )
    what = "Learning from the review, then classifying" if request_["learn"] else "Classifying"
    return answer(
        202,
        f"{what} the animals of {len(queued)} card(s) with {request_['set']!r}"
        + (f"; {len(skipped)} card(s) left out (see each card's page)." if skipped else "."),
        back,
        project=project.id,
        queued=queued,
        skipped=skipped,
    )
