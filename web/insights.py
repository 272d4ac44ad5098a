"""The results dashboard's data and charts: detections by hour of day and by day, the cameras
with their counts and positions (a table, a map drawn here, and GeoJSON for QGIS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, jsonify

from shared.camtrap_options import FROM_GPS, GIVEN, Place, places_from_json
from shared.events.grouping import folder_at
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL
from shared.store.figures import basis
from shared.store.insights import by_day, by_hour, cameras
from shared.store.reads import job_row
from web.charts.bars import stacked_bars
from web.charts.camera_map import camera_map
from web.results import job_threshold, missing, store

bp = Blueprint("insights", __name__)
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _with_detections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["detections"] = row["animal"] + row["person"] + row["vehicle"]
    return rows


@bp.get("/api/jobs/<job_id>/insights")
def insights(job_id: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    engine = store()
    return jsonify(
        threshold=threshold,
        cameras=_with_detections(cameras(engine, job_id)),
        hours=by_hour(engine, job_id),
        days=by_day(engine, job_id),
    )


def svg(text: str) -> Response:
    return Response(text, mimetype="image/svg+xml", headers=SVG_HEADERS)


def hours_chart(rows: list[dict[str, int]], unit: str) -> str:
    return stacked_bars(
        "Detections by hour of day",
        [f"{r['hour']:02d}" for r in rows],
        rows,
        x_title="Hour of day (camera clock, 00 = midnight to 1 am)",
        y_title=unit,
    )


def days_chart(days: dict[str, Any], unit: str) -> str:
    rows, unit_name = days["rows"], days["unit"]
    years = sorted({r["day"][:4] for r in rows})
    span = "–".join(dict.fromkeys([years[0], years[-1]])) if years else ""
    label = {
        "day": "month-day",
        "week": "month-day, weeks start on Monday",
        "month": "year-month",
    }[unit_name]
    keys = [r["day"][:7] if unit_name == "month" else r["day"][5:] for r in rows]
    return stacked_bars(
        f"Detections per {unit_name} over the survey",
        keys,
        rows,
        x_title=f"{unit_name.capitalize()} ({label})" + (f" in {span}" if span else ""),
        y_title=unit,
    )


@bp.get("/jobs/<job_id>/charts/<name>.svg")
def chart(job_id: str, name: str) -> Any:
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    unit = f"Detections (boxes at or above {threshold:g})"
    if name == "hours":
        return svg(hours_chart(by_hour(store(), job_id), unit))
    if name == "days":
        return svg(days_chart(by_day(store(), job_id), unit))
    if name == "map":
        return svg(camera_map(_with_detections(cameras(store(), job_id))))
    abort(404)


@bp.get("/api/jobs/<job_id>/cameras.geojson")
def geojson(job_id: str) -> Any:
    """The cameras with a GPS position as points (longitude, latitude; WGS 84) with their
    counts (the review's where there is one: `counts_from` machine | mixed | reviewed), for
    QGIS or any GIS."""
    threshold = job_threshold(job_id)
    if threshold is None:
        return missing(job_id)
    given = given_places(job_id)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c["longitude"], c["latitude"]]},
            "properties": {
                "folder": c["folder"],
                "position": c["position"],
                "images": c["images"],
                "images_with_gps": c["with_gps"],
                "animal_detections": c["animal"],
                "person_detections": c["person"],
                "vehicle_detections": c["vehicle"],
                "detections": c["detections"],
                "images_reviewed": c["reviewed"],
                "counts_from": basis(c["reviewed"], c["images"]),
                "first_capture": c["first"],
                "last_capture": c["last"],
                "threshold": threshold,
            },
        }
        for c in (placed(row, given) for row in _with_detections(cameras(store(), job_id)))
        if c["latitude"] is not None
    ]
    response = jsonify(type="FeatureCollection", features=features)
    response.mimetype = "application/geo+json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="trapline-{job_id[:8]}-cameras.geojson"'
    )
    return response


def given_places(job_id: str) -> Callable[[str], Place | None]:
    """The coordinates the uploader gave for a camera folder: by its deployment (the folder at
    the job's deployment level, "(top level)" for loose files) or the folder itself."""
    job = job_row(store(), job_id)
    options = job.options if job is not None else {}
    places = places_from_json(options.get("places"))
    level = int(options.get("deployment_level", DEFAULT_DEPLOYMENT_LEVEL))

    def given(folder: str) -> Place | None:
        name = folder_at(f"{folder}/file", level) or "(top level)"
        return places.get(name) or places.get(folder)

    return given


def placed(row: dict[str, Any], given: Callable[[str], Place | None]) -> dict[str, Any]:
    """A camera row with the uploader's coordinates before its photos' median GPS."""
    place = given(row["folder"])
    if place is not None:
        return {**row, "latitude": place[0], "longitude": place[1], "position": GIVEN}
    return {**row, "position": FROM_GPS if row["latitude"] is not None else ""}
