"""A job's cameras (deployments) and independent events, for scripts and the results page,
worked out from the stored results with the job's event gap and camera folder level, or with
others given in the query (to try a gap before exporting with it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from shared.camtrap_options import places_from_json
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP, Event
from shared.store import event_data
from shared.store.reads import job_row
from shared.video_options import parse_deployment_level, parse_event_gap
from web.errors import Refusal
from web.results import job_threshold, missing, store

bp = Blueprint("events", __name__)


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def event_options(job: Any) -> tuple[float, int]:
    """The event gap and camera folder level: the query's, else the job's, else the defaults."""
    options = job.options if job is not None else {}
    try:
        gap = parse_event_gap(
            request.args.get("event_gap") or options.get("event_gap", DEFAULT_EVENT_GAP)
        )
        level = parse_deployment_level(
            request.args.get("deployment_level")
            or options.get("deployment_level", DEFAULT_DEPLOYMENT_LEVEL)
        )
    except ValueError as exc:
        raise Refusal(str(exc)) from exc
    return gap, level


@bp.get("/api/jobs/<job_id>/events")
def job_events(job_id: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    job = job_row(store(), job_id)
    options = job.options if job is not None else {}
    gap, level = event_options(job)
    cameras, found = event_data.job_events(store(), job_id, gap, level)
    given = places_from_json(options.get("places"))
    return jsonify(
        threshold=threshold,
        event_gap=gap,
        deployment_level=level,
        deployments=[
            {
                "id": d.id,
                "folder": d.folder,
                "serial": d.serial,
                "start": _iso(d.start),
                "end": _iso(d.end),
                "make": d.make,
                "model": d.model,
                "latitude": d.latitude,
                "longitude": d.longitude,
                "given_coordinates": given.get(d.id) or given.get(d.folder),
                "files": len(d.items),
                "events": d.events,
            }
            for d in cameras
        ],
        events=[
            {
                "id": e.id,
                "deployment": e.deployment,
                "start": _iso(e.start),
                "end": _iso(e.end),
                "files": e.files,
                **event_figures(e),
            }
            for e in found
        ],
    )


def event_figures(e: Event) -> dict[str, Any]:
    """An event's counts as the API gives them, saying where they come from."""
    return {
        "outcome": e.outcome,
        "maxn": e.maxn,
        "species": e.species,
        "max_conf": e.max_conf,
        "reviewed": e.reviewed,
        "counts_from": e.source,
        "confirmed": e.tag.public() if e.tag else None,
        "note": e.note,
    }
