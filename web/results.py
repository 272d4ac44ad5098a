"""A job's stored results for scripts and the job page: pages of media with their detections,
the counts, thumbnails, and asking for the outputs to be made again. Read from the results
database only (Redis is asked only to tell an expired job from one that never existed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, jsonify, request, send_from_directory, url_for
from sqlalchemy import Engine

from shared.contract import JobStatus
from shared.storage import is_job_id
from shared.store.queries import (
    BadQuery,
    MediaQuery,
    job_exists,
    media_page,
    species_used,
    summary,
)
from shared.store.reads import job_row
from shared.store.records import frame_thumbnail
from shared.store.thresholds import counts_at
from web import job_status, resources
from web.errors import error_response

bp = Blueprint("results", __name__)
EXPIRED = "This result has expired and was removed from the server."


def store() -> Engine:
    return resources.results_store()


def missing(job_id: str) -> Any:
    """For a job whose results the store does not hold: 410 when the store says they are gone
    (expired, cancelled), 409 while the live record says it waits for a model server or has
    just been taken by one that has not stored its first row yet (Redis owns that), 404 for
    anything else."""
    gone = job_status.gone_response(job_id)
    if gone is not None:
        return gone
    state = job_status.find_job(job_id)
    if state is not None and state.status is JobStatus.QUEUED:
        return error_response(409, "No results yet: the job is waiting for a model server.")
    if state is not None and state.status is JobStatus.PROCESSING:
        return error_response(409, "No results yet: a model server has just started the job.")
    abort(404)


def job_threshold(job_id: str) -> float | None:
    """The stored job's threshold; None when the store has no such job (404 for a malformed
    id)."""
    if not is_job_id(job_id):
        abort(404)
    job = job_row(store(), job_id)
    return None if job is None else job.threshold


def number_arg(args: Mapping[str, Any], name: str, kind: type[float | int]) -> Any:
    raw = str(args.get(name) if args.get(name) is not None else "").strip()
    if raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a number") from None


def _text(args: Mapping[str, Any], name: str, default: str = "") -> str:
    return str(args.get(name) or default).strip().lower() or default


def media_query(args: Mapping[str, Any]) -> MediaQuery:
    """The gallery's filters and order, from a query string or a JSON object."""
    folder = args.get("folder")
    return MediaQuery(
        outcome=_text(args, "outcome"),
        category=_text(args, "category"),
        folder=None if folder is None else str(folder),
        min_conf=number_arg(args, "min_conf", float),
        max_conf=number_arg(args, "max_conf", float),
        reviewed=_text(args, "reviewed"),
        suppressed=_text(args, "suppressed"),
        order=_text(args, "order", "path"),
        page=number_arg(args, "page", int) or 1,
        per_page=number_arg(args, "per_page", int) or 50,
        event=str(args.get("event") or "").strip(),
    )


def with_urls(job_id: str, item: dict[str, Any]) -> dict[str, Any]:
    for key in ("thumbnail", "view"):
        if item[key]:
            item[f"{key}_url"] = url_for("results.thumbnail", job_id=job_id, name=item[key])
    if item.get("video") and item["thumbnail"]:
        for frame in item["video"]["frames"]:  # the filmstrip
            frame["thumbnail_url"] = url_for(
                "results.thumbnail",
                job_id=job_id,
                name=frame_thumbnail(item["thumbnail"], frame["number"]),
            )
    return item


@bp.get("/api/jobs/<job_id>/media")
def media(job_id: str) -> Any:
    if not is_job_id(job_id):
        abort(404)
    query = media_query(request.args)
    if not job_exists(store(), job_id):
        return missing(job_id)
    page = media_page(store(), job_id, query)
    for item in page["media"]:
        with_urls(job_id, item)
    return jsonify(page)


@bp.get("/api/jobs/<job_id>/summary")
def job_summary(job_id: str) -> Any:
    """The counts; with `?threshold=T` also what they would be at T (the page's slider)."""
    at = number_arg(request.args, "threshold", float)
    found = summary(store(), job_id) if is_job_id(job_id) else None
    if found is None:
        return missing(job_id)
    if at is not None:
        if not 0 < at <= 1:
            raise BadQuery("threshold is a number above 0, at most 1")
        found["at_threshold"] = counts_at(store(), job_id, at)
    found["species"] = species_used(store(), job_id)
    return jsonify(found)


@bp.get("/jobs/<job_id>/thumbnails/<name>")
def thumbnail(job_id: str, name: str) -> Any:
    if not is_job_id(job_id):
        abort(404)
    folder = resources.storage().thumbnail_dir(job_id)
    response = send_from_directory(folder, name, mimetype="image/jpeg", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
