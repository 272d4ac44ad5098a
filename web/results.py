"""A job's stored results for scripts and the job page: pages of media with their detections,
the counts, thumbnails, and asking for the outputs to be made again. Read from the results
database only (Redis is asked only to tell an expired job from one that never existed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request, send_from_directory, url_for
from sqlalchemy import Engine

from shared.contract import JobKind, JobStatus, TransitionRefused, enqueue_job
from shared.storage import is_job_id
from shared.store.queries import BadQuery, MediaQuery, job_exists, media_page, summary
from web import services
from web.errors import error_response
from web.security import api_key_required

bp = Blueprint("results", __name__)
EXPIRED = "This result has expired and was removed from the server."


def store() -> Engine:
    return services.results_store()


def _missing(job_id: str) -> Any:
    """410 for a job the cleanup removed, 409 for one that has stored nothing yet (waiting for
    a model server), 404 for anything else."""
    state = services.find_job(job_id)
    if state is not None and state.status is JobStatus.EXPIRED:
        return error_response(410, EXPIRED)
    if state is not None and state.status is JobStatus.QUEUED:
        return error_response(409, "No results yet: the job is waiting for a model server.")
    abort(404)


def _number(name: str, kind: type[float | int]) -> Any:
    raw = request.args.get(name, "").strip()
    if raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a number") from None


def _query() -> MediaQuery:
    args = request.args
    return MediaQuery(outcome=args.get("outcome", "").strip().lower(),
                      folder=args.get("folder"), min_conf=_number("min_conf", float),
                      max_conf=_number("max_conf", float),
                      order=args.get("order", "path").strip().lower() or "path",
                      page=_number("page", int) or 1, per_page=_number("per_page", int) or 50)


@bp.get("/api/jobs/<job_id>/media")
def media(job_id: str) -> Any:
    if not is_job_id(job_id):
        abort(404)
    try:
        query = _query()
        if not job_exists(store(), job_id):
            return _missing(job_id)
        page = media_page(store(), job_id, query)
    except BadQuery as exc:
        return jsonify(error=str(exc)), 400
    for item in page["media"]:
        if item["thumbnail"]:
            item["thumbnail_url"] = url_for("results.thumbnail", job_id=job_id,
                                            name=item["thumbnail"])
    return jsonify(page)


@bp.get("/api/jobs/<job_id>/summary")
def job_summary(job_id: str) -> Any:
    found = summary(store(), job_id) if is_job_id(job_id) else None
    if found is None:
        return _missing(job_id)
    return jsonify(found)


@bp.get("/jobs/<job_id>/thumbnails/<name>")
def thumbnail(job_id: str, name: str) -> Any:
    if not is_job_id(job_id):
        abort(404)
    folder = services.storage().thumbnail_dir(job_id)
    response = send_from_directory(folder, name, mimetype="image/jpeg", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/api/jobs/<job_id>/export")
@api_key_required
def export(job_id: str) -> Any:
    """Makes the zip, Excel, JSON and CSVs again from the store (after review)."""
    state = services.job_or_404(job_id)
    try:
        enqueue_job(services.redis(), state, kind=JobKind.EXPORT)
    except TransitionRefused as exc:
        return jsonify(error=f"Not exported: {exc}."), 409
    return jsonify(services.status_payload(state)), 202
