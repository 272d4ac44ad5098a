"""Rows of the three Camtrap DP tables, with every column of the 1.0.2 table schemas in schema
order (the tests compare these lists with the published schemas)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Any

from shared.categories import CATEGORY_LABELS
from shared.events.model import Deployment, Event
from shared.species.classifier import UNKNOWN
from shared.store.records import MediaRecord
from shared.surveys.custom_fields import CustomField, camtrap_values

DEPLOYMENT_FIELDS = (
    "deploymentID",
    "locationID",
    "locationName",
    "latitude",
    "longitude",
    "coordinateUncertainty",
    "deploymentStart",
    "deploymentEnd",
    "setupBy",
    "cameraID",
    "cameraModel",
    "cameraDelay",
    "cameraHeight",
    "cameraDepth",
    "cameraTilt",
    "cameraHeading",
    "detectionDistance",
    "timestampIssues",
    "baitUse",
    "featureType",
    "habitat",
    "deploymentGroups",
    "deploymentTags",
    "deploymentComments",
)
MEDIA_FIELDS = (
    "mediaID",
    "deploymentID",
    "captureMethod",
    "timestamp",
    "filePath",
    "filePublic",
    "fileName",
    "fileMediatype",
    "exifData",
    "favorite",
    "mediaComments",
)
OBSERVATION_FIELDS = (
    "observationID",
    "deploymentID",
    "mediaID",
    "eventID",
    "eventStart",
    "eventEnd",
    "observationLevel",
    "observationType",
    "cameraSetupType",
    "scientificName",
    "count",
    "lifeStage",
    "sex",
    "behavior",
    "individualID",
    "individualPositionRadius",
    "individualPositionAngle",
    "individualSpeed",
    "bboxX",
    "bboxY",
    "bboxWidth",
    "bboxHeight",
    "classificationMethod",
    "classifiedBy",
    "classificationTimestamp",
    "classificationProbability",
    "observationTags",
    "observationComments",
)

# MegaDetector's categories as Camtrap DP's observation types
OBSERVATION_TYPES = {"animal": "animal", "person": "human", "vehicle": "vehicle"}
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".asf": "video/x-ms-asf",
    ".wmv": "video/x-ms-wmv",
}


def media_id(path: str) -> str:
    """Stable across exports of the same upload: the same file keeps its id."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def stamp(moment: datetime | None, zone: timezone) -> str:
    """A camera's local time with the job's UTC offset, as the schemas' `%Y-%m-%dT%H:%M:%S%z`."""
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    text = aware.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


def deployment_row(
    d: Deployment, place: tuple[float, float] | None, zone: timezone, comment: str
) -> dict[str, Any]:
    camera = "-".join(part for part in (d.make, d.model) if part)
    return {
        "deploymentID": d.id,
        "locationID": d.folder or None,
        "locationName": d.folder or None,
        "latitude": place[0] if place else None,
        "longitude": place[1] if place else None,
        "deploymentStart": stamp(d.start, zone),
        "deploymentEnd": stamp(d.end, zone),
        "cameraID": d.serial or None,
        "cameraModel": camera or None,
        "deploymentComments": comment,
    }


def media_row(record: MediaRecord, deployment: str, zone: timezone) -> dict[str, Any]:
    return {
        "mediaID": media_id(record.file),
        "deploymentID": deployment,
        "timestamp": stamp(record.captured, zone),
        "filePath": record.file,
        "filePublic": False,
        "fileName": PurePosixPath(record.file).name,
        "fileMediatype": media_type(record.file),
        "mediaComments": _media_comment(record),
    }


def _media_comment(record: MediaRecord) -> str | None:
    said = []
    if record.failure:
        said.append(f"not readable: {record.failure}")
    if own := record.metadata.get("camera_clock"):
        said.append(f"the camera's clock said {own.replace('T', ' ')} (corrected)")
    return "; ".join(said) or None


def _box(bbox: list[float]) -> dict[str, float]:
    x, y, w, h = (min(max(float(v), 0.0), 1.0) for v in bbox)
    return {
        "bboxX": round(x, 6),
        "bboxY": round(y, 6),
        "bboxWidth": max(round(min(w, 1.0 - x), 6), 1e-6),
        "bboxHeight": max(round(min(h, 1.0 - y), 6), 1e-6),
    }


def classifier_name(species: dict[str, Any]) -> str:
    """The class set that suggested species, as `classifiedBy` names it ("" when none)."""
    if not species.get("classes"):
        return ""
    return f"Trapline class set '{species['set']}' ({species['embedder']})"


def media_observations(
    record: MediaRecord,
    event: Event | None,
    deployment: str,
    zone: timezone,
    threshold: float,
    model: str,
    classifier: str = "",
    fields: tuple[CustomField, ...] = (),
) -> list[dict[str, Any]]:
    """One observation per box (per category with its most boxes in one frame, for a video),
    `blank` for a file with none, `unclassified` for one that could not be read. A reviewed
    file's observations are the reviewer's, with `classificationMethod` human. A machine box
    with a species suggested by the class set (`classifier`) carries it in `scientificName`,
    `classifiedBy` names the detector and the class set, and the probability is 1 - the cosine
    distance (the detector's confidence otherwise)."""
    mid = media_id(record.file)
    start = record.captured
    duration = float((record.video or {}).get("duration") or 0.0)
    end = start + timedelta(seconds=duration) if start is not None else None
    base = {
        "deploymentID": deployment,
        "mediaID": mid,
        "eventID": event.id if event else None,
        "eventStart": stamp(start, zone),
        "eventEnd": stamp(end, zone),
        "observationLevel": "media",
    }
    if record.failure is not None:
        return [
            {
                **base,
                "observationID": f"{mid}_1",
                "observationType": "unclassified",
                "observationComments": f"not readable: {record.failure}",
            }
        ]
    if record.review:
        boxes = [
            {**d, "category": d.get("verified_category") or d["category"]} for d in record.kept()
        ]
        who = {"classificationMethod": "human", "classifiedBy": record.reviewer or "reviewer"}
    else:
        boxes = record.above(threshold)
        who = {"classificationMethod": "machine", "classifiedBy": model}
    if not boxes:
        return [{**base, "observationID": f"{mid}_1", "observationType": "blank", **who}]
    rows = (
        [
            {
                **_box_observation(d, record.review != "", model, classifier),
                **camtrap_values(fields, d.get("fields")),
            }
            for d in boxes
        ]
        if record.kind != "video"
        else _video_observations(boxes, record.review != "")
    )
    return [
        {**base, **who, **row, "observationID": f"{mid}_{n}"} for n, row in enumerate(rows, start=1)
    ]


def _box_observation(
    d: dict[str, Any], human: bool, model: str = "", classifier: str = ""
) -> dict[str, Any]:
    row = {
        "observationType": OBSERVATION_TYPES[CATEGORY_LABELS[d["category"]]],
        "scientificName": d.get("species") or None,
        "count": 1,
        **_box(d["bbox"]),
        "classificationProbability": None if human else round(float(d["conf"]), 4),
    }
    suggested = d.get("suggested_species")
    if not human and classifier and suggested and suggested != UNKNOWN:
        row.update(
            scientificName=suggested,
            classifiedBy=f"{model}; {classifier}",
            classificationProbability=round(max(0.0, 1.0 - d["species_distance"]), 4),
        )
    return row


def _video_observations(boxes: list[dict[str, Any]], human: bool) -> list[dict[str, Any]]:
    """A video's boxes lie on many frames: one observation per category, counting the most
    boxes of it in any one frame (MaxN), without a box (Camtrap DP's boxes are per image)."""
    per_frame: dict[tuple[Any, str], int] = {}
    best: dict[str, float] = {}
    for d in boxes:
        key = (d.get("frame"), d["category"])
        per_frame[key] = per_frame.get(key, 0) + 1
        best[d["category"]] = max(best.get(d["category"], 0.0), float(d.get("conf") or 0.0))
    rows = []
    for category in sorted(best):
        count = max(n for (_, c), n in per_frame.items() if c == category)
        rows.append(
            {
                "observationType": OBSERVATION_TYPES[CATEGORY_LABELS[category]],
                "count": count,
                "classificationProbability": None if human else round(best[category], 4),
            }
        )
    return rows


def event_observations(
    event: Event, zone: timezone, model: str, fields: tuple[CustomField, ...] = ()
) -> list[dict[str, Any]]:
    """The event's consensus, as its files' figures count them (the review where a file has
    one): per type its MaxN, the most of them in any one of its files; animals reviewers named
    one row per species with its MaxN, and any more animals than those a row without a name;
    an event a reviewer tagged has the species and count they confirmed.
    An event every readable file of which was reviewed is `human`; one partly reviewed is
    `machine` and says how much was reviewed."""
    comments = [event.note] if event.note else []
    if event.source == "mixed":
        comments.append(f"{event.reviewed} of {len(event.files)} files reviewed")
    recorded = camtrap_values(fields, event.tag.fields if event.tag else None)
    if "observationComments" in recorded:  # a project field for free notes
        comments.append(recorded.pop("observationComments"))
    who = ", ".join(event.reviewers) or "reviewer"
    base = {
        "deploymentID": event.deployment,
        "eventID": event.id,
        "eventStart": stamp(event.start, zone),
        "eventEnd": stamp(event.end, zone),
        "observationLevel": "event",
        "classificationMethod": "human" if event.source == "reviewed" else "machine",
        "classifiedBy": {"reviewed": who, "mixed": f"{model}; {who}"}.get(event.source, model),
        "observationComments": "; ".join(comments) or None,
        **recorded,
    }
    counts = event.counts
    named = dict(event.species)
    if event.tag is not None:  # the species the reviewer confirmed for the whole event
        named = {event.tag.species: event.tag.count} if event.tag.species else {}
    rows: list[dict[str, Any]] = []
    for label, n in counts.items():
        kind = OBSERVATION_TYPES[label]
        mine = named if label == "animal" else {}
        for i, (name, count) in enumerate(mine.items(), start=1):
            rows.append(
                {
                    **base,
                    "observationID": f"{event.id}_{kind}_{i}",
                    "observationType": kind,
                    "scientificName": name,
                    "count": count,
                }
            )
        rest = n - sum(mine.values())
        if rest > 0:
            rows.append(
                {
                    **base,
                    "observationID": f"{event.id}_{kind}",
                    "observationType": kind,
                    "count": rest,
                }
            )
    if not rows:
        kind = "unclassified" if event.outcome == "error" else "blank"
        return [{**base, "observationID": f"{event.id}_{kind}", "observationType": kind}]
    return rows
