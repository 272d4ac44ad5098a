"""`datapackage.json` of a job's Camtrap DP package: the 1.0.2 profile and schema URLs, when and
by what it was made, the project fields Camtrap DP requires (from the project's settings, else
defaults a researcher edits before publishing), and the spatial, temporal and taxonomic
coverage worked out from the data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from model_server.outputs.camtrap_dp.validation import PROFILE_URL, SCHEMA_URLS, TABLES, VERSION
from shared.events.model import Deployment
from shared.surveys.project_settings import ProjectSettings, Survey

Place = tuple[float, float]
WHOLE_SURVEY = "Every card of the survey, one deployment per camera location and card. "


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
    survey: Survey | None = None,
    whole_survey: bool = False,
) -> dict[str, Any]:
    """The survey's own facts where its project's settings give them (title, contributors,
    licence, sampling design, capture method); the required properties nobody gave are filled
    with stated defaults (the title is the job's, `samplingDesign` opportunistic, `captureMethod`
    activityDetection), and the description says which are defaults to check."""
    made = created.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    valid = not problems
    note = "" if valid else " NOT VALID FOR PUBLICATION: " + "; ".join(problems) + "."
    facts = survey.settings if survey is not None else ProjectSettings()
    defaults = [
        name
        for name, given in (
            ("title", facts.title),
            ("contributors", facts.contributors),
            ("samplingDesign", facts.sampling_design),
            ("captureMethod", facts.capture_method),
        )
        if not given
    ]
    check = (
        f" The project fields ({', '.join(defaults)}) are defaults to check before publishing."
        if defaults
        else ""
    )
    title = facts.title or (
        f"{survey.name}: camera-trap detections" if survey else f"Trapline job {job_id}"
    )
    package: dict[str, Any] = {
        "profile": PROFILE_URL,
        "name": f"trapline-{job_id.lower()}",
        "id": job_id,
        "created": made,
        "title": facts.title
        or (
            f"{survey.name}: camera-trap survey"
            if survey and whole_survey
            else f"Camera-trap detections of Trapline job {job_id}"
        ),
        "description": (
            (f"{survey.description.strip()} " if survey and survey.description.strip() else "")
            + (WHOLE_SURVEY if whole_survey else "")
            + f"Observations made by the detector {model} at confidence {threshold:g} and by "
            f"the people who reviewed them, grouped into deployments and events by Trapline. "
            f"Camera clocks are taken to be at UTC{utc_offset}.{check}" + note
        ),
        "version": "1.0",
        "contributors": [c.public() for c in facts.contributors]
        or [
            {
                "title": "Trapline (replace with the project's people before publishing)",
                "role": "contributor",
            }
        ],
        "sources": [{"title": "Trapline", "version": software}],
        "project": {
            "id": str(survey.project_id) if survey else job_id,
            "title": title,
            "samplingDesign": facts.sampling_design or "opportunistic",
            "captureMethod": list(facts.capture_method) or ["activityDetection"],
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
    if facts.licence:
        package["licenses"] = [
            {"name": facts.licence, "scope": "data"},
            {"name": facts.licence, "scope": "media"},
        ]
    coverage = spatial(places)
    if coverage is not None:
        package["spatial"] = coverage
    period = temporal(found)
    if period is not None:
        package["temporal"] = period
    return package
