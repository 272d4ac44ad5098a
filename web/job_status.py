"""What a job's page and the API say about it: its status, ETA and queue position, the notice
while no model server runs, the zips to download; and cancelling it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import abort, make_response, url_for
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from shared.contract import NOTICE_KEY, RATE_KEY, JobState, JobStatus, load_state, transition
from shared.job_index import queue_position, work_ahead
from shared.model_servers import live_count
from shared.storage import is_job_id
from shared.store.reads import ended_as
from shared.store.writes import delete_job, record_ended
from web import resources
from web.errors import error_response
from web.model_facts import of_job
from web.wording import model_line, progress_text, summary_text


def human_size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.0f} {unit}"
    return f"{n} bytes"


def model_notice() -> str | None:
    """Said on the upload page and on waiting jobs' pages while no model server is live, so
    nobody waits unknowingly."""
    try:
        r = resources.redis()
        if live_count(r):
            return None
        notice = r.get(NOTICE_KEY)
    except RedisError:
        return None  # the page still works; /healthz and the admin page say Redis is down
    if notice:
        return (
            "No detector model is installed on the model server yet, so jobs wait in the "
            "queue. Administrators: see `trapline-models download` in the docs (Sysadmins, Models)."
        )
    return "No model server is running right now; jobs wait in the queue until one starts."


def status_payload(state: JobState) -> dict[str, Any]:
    """The one serializer of a job's status, for the API and the job page alike."""
    r = resources.redis()
    position = queue_position(r, state)
    eta: float | None = None
    jobs_ahead = images_ahead = 0
    if state.status is JobStatus.PROCESSING and state.rate:
        eta = max(state.total - state.processed, 0) / state.rate
    elif state.status is JobStatus.QUEUED:
        jobs_ahead, images_ahead = work_ahead(r, state, position)
        recent = r.get(RATE_KEY)
        if recent and float(recent) > 0:
            eta = (images_ahead + state.total) / float(recent)
    finished = state.status is JobStatus.FINISHED
    waiting = state.status in (JobStatus.QUEUED, JobStatus.PROCESSING)
    expires = None
    if finished and state.finished_at:
        keep = resources.settings().results_max_age_days * 86400
        expires = datetime.fromtimestamp(state.finished_at + keep, UTC).strftime("%Y-%m-%d")
    return {
        "id": state.id,
        "status": state.status.value,
        "processed": state.processed,
        "total": state.total,
        "queue_position": position,
        "eta_seconds": round(eta) if eta is not None else None,
        "download_url": (
            url_for("jobs.download", job_id=state.id, _external=True) if finished else None
        ),
        "status_url": url_for("api.job_status", job_id=state.id, _external=True),
        "error": state.error or None,
        "summary": state.summary or None,
        "model": state.model or None,
        **_wording(state),
        "jobs_ahead": jobs_ahead,
        "images_ahead": images_ahead,
        "notice": model_notice() if waiting else None,
        "expires_on": expires,
        "downloads": downloads(state) if finished else [],
        "export": (
            {
                "running": bool(state.follow_up),
                "kind": state.follow_up_kind or None,
                "photos": state.export_photos,
                **state.export_progress,
            }
            if state.follow_up
            else None
        ),
        "exported_at": state.exported_at,
        # why the last export or classify was given up (its model server kept dying)
        "follow_up_error": state.follow_up_error or None,
    }


def _wording(state: JobState) -> dict[str, Any]:
    """The page's sentences about the job's progress, its results and its model."""
    facts = of_job(state)
    threshold = (state.summary or {}).get("threshold")
    if threshold is None and facts is not None:
        threshold = resources.settings().detection_threshold or facts.threshold
    return {
        "videos": state.videos,
        "progress_text": progress_text(state.processed, state.total, state.videos),
        "summary_text": summary_text(state.summary, facts) if state.summary else None,
        "model_line": model_line(facts, threshold) if facts else None,
        "model_facts": facts.as_json() if facts else None,
    }


def downloads(state: JobState) -> list[dict[str, Any]]:
    """The job's zips, newest first, with their sizes (shown before anyone downloads)."""
    store = resources.storage()
    found = []
    for path in store.result_zips(state.id):
        what = "reports" if path == store.reports_zip(state.id) else "full"
        info = path.stat()
        found.append(
            {
                "what": what,
                "bytes": info.st_size,
                "size": human_size(info.st_size),
                "url": url_for("jobs.download", job_id=state.id, what=what, _external=True),
                "made_at": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(),
            }
        )
    return found


def find_job(job_id: str) -> JobState | None:
    """The upload's live record; None for anything not shaped like one of our ids, and for a
    project's export record, which is no upload."""
    state = load_state(resources.redis(), job_id)
    return state if state is not None and not state.project else None


ENDED = {
    "expired": "This result has expired and was removed from the server.",
    "cancelled": "This job was cancelled: its photos were deleted and no results were made. "
    "Please upload the photos again.",
    "deleted": "This upload was deleted with its project, and its results with it.",
}


def gone_response(job_id: str) -> Any:
    """410 with why, when the results database says the job's results are gone; else None.
    The store owns this fact, so it holds after the live record in Redis has lapsed."""
    if not is_job_id(job_id):
        return None
    why = ended_as(resources.results_store(), job_id)
    return error_response(410, ENDED.get(why, ENDED["expired"])) if why else None


def job_or_404(job_id: str) -> JobState:
    """The live record; a job the store says is gone answers 410 once its record has lapsed."""
    state = find_job(job_id)
    if state is None:
        gone = gone_response(job_id)
        if gone is not None:
            abort(make_response(gone))
        abort(404)
    return state


def cancel_job(state: JobState) -> JobState:
    """A queued job is taken off the queue now; a running one stops at its next image. Each
    step is a guarded transition, so a cancel racing the job's finish changes nothing."""
    r = resources.redis()
    if transition(
        r, state.id, (JobStatus.QUEUED,), status=JobStatus.CANCELLED, finished_at=time.time()
    ):
        try:
            Job.fetch(state.rq_id, connection=r, serializer=JSONSerializer).cancel()
        except (NoSuchJobError, InvalidJobOperation):  # already gone from RQ: our record rules
            pass
        resources.storage().remove_job_files(state.id)
        engine = resources.results_store()
        delete_job(engine, state.id)  # a job queued again may have stored some
        record_ended(engine, state.id, "cancelled", datetime.now(UTC))
    else:
        transition(r, state.id, (JobStatus.PROCESSING,), cancel_requested=True)
    return load_state(r, state.id) or state
