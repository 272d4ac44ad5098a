"""`datapackage.json` of a job's Camtrap DP package: the 1.0.2 profile and schema URLs, when and
by what it was made, the project fields Camtrap DP requires (defaults a researcher edits before
publishing), and the spatial, temporal and taxonomic coverage worked out from the data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from model_server.outputs.camtrap_dp.validation import PROFILE_URL, SCHEMA_URLS, TABLES, VERSION
from shared.events.model import Deployment

Place = tuple[float, float]


def spatial(places: list[Place]) -> dict[str, Any] | None:
    """A GeoJSON point for one position, the bounding box of several, None without any."""
    if not places:
        return None
    lats, lons = [p[0] for p in places], [p[1] for p in places]
    if min(lats) == max(lats) and min(lons) == max(lons):
        return {"type": "Point", "coordinates": [lons[0], lats[0]]}
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def temporal(found: list[Deployment]) -> dict[str, str] | None:
    starts = [d.start for d in found if d.start is not None]
    ends = [d.end for d in found if d.end is not None]
    if not starts or not ends:
        return None
    return {"start": min(starts).date().isoformat(), "end": max(ends).date().isoformat()}


def descriptor(
    *,
    job_id: str,
    created: datetime,
    model: str,
    threshold: float,
    utc_offset: str,
    found: list[Deployment],
    places: list[Place],
    species: list[str],
    problems: list[str],
    software: str,
) -> dict[str, Any]:
    """Required properties Trapline cannot know are filled with stated defaults: the project
    title is the job's, `samplingDesign` opportunistic, `captureMethod` activityDetection."""
    made = created.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    valid = not problems
    note = "" if valid else " NOT VALID FOR PUBLICATION: " + "; ".join(problems) + "."
    package: dict[str, Any] = {
        "profile": PROFILE_URL,
        "name": f"trapline-{job_id.lower()}",
        "id": job_id,
        "created": made,
        "title": f"Camera-trap detections of Trapline job {job_id}",
        "description": (
            f"Observations made by the detector {model} at confidence {threshold:g} and by "
            f"the people who reviewed them, grouped into deployments and events by Trapline. "
            f"Camera clocks are taken to be at UTC{utc_offset}. The project fields "
            f"(samplingDesign, captureMethod) are defaults to check before publishing." + note
        ),
        "version": "1.0",
        "contributors": [
            {
                "title": "Trapline (replace with the project's people before publishing)",
                "role": "contributor",
            }
        ],
        "sources": [{"title": "Trapline", "version": software}],
        "project": {
            "id": job_id,
            "title": f"Trapline job {job_id}",
            "samplingDesign": "opportunistic",
            "captureMethod": ["activityDetection"],
            "individualAnimals": False,
            "observationLevel": ["media", "event"],
        },
        "taxonomic": [{"scientificName": name} for name in species],
        "resources": [
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": SCHEMA_URLS[table],
            }
            for table in TABLES
        ],
        # Trapline's own facts: extra properties are allowed by the profile
        "trapline": {
            "camtrapDPVersion": VERSION,
            "validForPublication": valid,
            "problems": problems,
            "utcOffset": utc_offset,
            "model": model,
            "threshold": threshold,
        },
    }
    coverage = spatial(places)
    if coverage is not None:
        package["spatial"] = coverage
    period = temporal(found)
    if period is not None:
        package["temporal"] = period
    return package
