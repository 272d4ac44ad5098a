"""Coordinates for a finished job's deployments (and the cameras' UTC offset), given after the
run so its Camtrap DP package can be published: the job page's table of deployments without
coordinates posts here, scripts send JSON or a CSV. The package is then made again by an
export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for

from shared.camtrap_options import Place, parse_place, parse_places, parse_utc_offset
from shared.contract import JobStatus, TransitionRefused
from shared.store.job_options import add_places
from web import job_status
from web.answers import answer
from web.audit_trail import note_job
from web.errors import Refusal
from web.exporting import start_export
from web.results import store

bp = Blueprint("deployments", __name__)


def _from_json(body: Any) -> tuple[dict[str, Place], str | None]:
    """{"places": {"cam1": [lat, lon] or {"latitude": .., "longitude": ..}}, "utc_offset"}"""
    if not isinstance(body, dict) or not isinstance(body.get("places", {}), dict):
        raise TypeError('send {"places": {"deployment": [latitude, longitude]}}')
    places: dict[str, Place] = {}
    for name, value in body.get("places", {}).items():
        pair = [value.get("latitude"), value.get("longitude")] if isinstance(value, dict) else value
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{name}: give [latitude, longitude]")
        places[str(name)] = parse_place(pair[0], pair[1], f"{name}: ")
    offset = body.get("utc_offset")
    return places, parse_utc_offset(str(offset)) if offset else None


def _from_form() -> tuple[dict[str, Place], str | None]:
    """The job page's table: one row per deployment; a row left blank is skipped."""
    names = request.form.getlist("deployment")
    lats, lons = request.form.getlist("latitude"), request.form.getlist("longitude")
    places: dict[str, Place] = {}
    for name, lat, lon in zip(names, lats, lons, strict=False):
        if lat.strip() or lon.strip():
            places[name] = parse_place(lat.strip(), lon.strip(), f"{name}: ")
    offset = (request.form.get("utc_offset") or "").strip()
    return places, parse_utc_offset(offset) if offset else None


def _given() -> tuple[dict[str, Place], str | None]:
    if request.is_json:
        return _from_json(request.get_json(silent=True))
    if request.mimetype == "text/csv":
        return parse_places(request.get_data(as_text=True)), None
    return _from_form()


def _back(job_id: str) -> str:
    return url_for("jobs.page", job_id=job_id) + "#camtrap-dp"


def _answer(job_id: str, status: int, message: str, **extra: Any) -> Any:
    return answer(status, message, _back(job_id), **extra)


@bp.post("/api/jobs/<job_id>/deployments")
def give_places(job_id: str) -> Any:
    state = job_status.job_or_404(job_id)
    try:
        places, offset = _given()
        if not places and offset is None:
            raise ValueError("no coordinates were given")
    except (TypeError, ValueError) as exc:
        raise Refusal(f"Not saved: {exc}.", page=_back(job_id)) from exc
    if state.status is not JobStatus.FINISHED:
        raise Refusal(
            f"Not saved: the job is {state.status.value}; coordinates "
            "are given with the upload (`deployments`) or once it has finished.",
            409,
            page=_back(job_id),
        )
    options = add_places(store(), job_id, places, offset)
    if options is None:
        raise Refusal(
            "Not saved: this job's results are no longer stored.", 404, page=_back(job_id)
        )
    note_job(job_id, "coordinates", {"deployments": len(places), "utc_offset": offset or ""})
    try:
        start_export(state, photos=state.export_photos)
    except TransitionRefused as exc:
        raise Refusal(
            f"Saved, but the package is not being made again yet: "
            f"{exc}. Start an export when the current one is done.",
            409,
            page=_back(job_id),
        ) from exc
    return _answer(
        job_id,
        202,
        f"Saved coordinates for {len(places)} deployment(s); the "
        "Camtrap DP package is being made again.",
        places=options["places"],
        utc_offset=options.get("utc_offset"),
    )
