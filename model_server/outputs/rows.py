"""The rows of the Images and Detections tables (Excel sheets and CSVs), made from stored media
records at the run's threshold, with what reviewers said beside the machine's own values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.store.records import CATEGORY_LABELS, MediaRecord

REVIEW_COLUMNS = ("review", "reviewer", "verified_category", "species")
IMAGE_COLUMNS = (
    "file", "folder", "outcome", "animals", "persons", "vehicles", "max_confidence",
    *REVIEW_COLUMNS, "captured", "make", "model", "serial", "latitude", "longitude",
    "altitude_m", "altitude_ref", "map_link", "width", "height", "failure", "exif_notes",
)
DETECTION_COLUMNS = (
    "file", "category", "confidence", "source", *REVIEW_COLUMNS, "x_min", "y_min", "width",
    "height", "x_min_px", "y_min_px", "width_px", "height_px",
)


def species_of(record: MediaRecord) -> str:
    return "; ".join(sorted({d["species"] for d in record.kept() if d.get("species")}))


def image_row(record: MediaRecord, threshold: float) -> dict[str, Any]:
    kept = record.above(threshold)
    counts = {label: sum(1 for d in kept if d["category"] == value)
              for value, label in CATEGORY_LABELS.items()}
    meta = record.metadata
    return {
        "file": record.file,
        "folder": record.folder,  # the camera folder, "" at the top level
        "outcome": record.outcome(threshold),
        "animals": counts["animal"],
        "persons": counts["person"],
        "vehicles": counts["vehicle"],
        "max_confidence": record.max_conf,
        "review": record.review,
        "reviewer": record.reviewer,
        "verified_category": record.verified_outcome if record.review else "",
        "species": species_of(record),
        "captured": record.captured,
        **{k: meta.get(k) for k in ("make", "model", "serial", "latitude", "longitude",
                                    "altitude_m", "altitude_ref", "map_link")},
        "width": record.width,
        "height": record.height,
        "failure": record.failure or "",
        "exif_notes": meta.get("exif_notes", ""),
    }


def reported(record: MediaRecord, threshold: float) -> list[dict[str, Any]]:
    """The detector's boxes at the threshold, and every box a reviewer judged or drew."""
    return [d for d in record.detections
            if d.get("verdict") or (d.get("source", "machine") == "machine"
                                    and d["conf"] >= threshold)]


def detection_rows(record: MediaRecord, threshold: float) -> Iterator[dict[str, Any]]:
    for det in reported(record, threshold):
        x, y, w, h = det["bbox"]
        px = (record.width or 0, record.height or 0)
        human = det.get("source") == "human"
        verified = det.get("verified_category") if det.get("verdict") != "rejected" else None
        yield {
            "file": record.file,
            "category": CATEGORY_LABELS[det["category"]],
            "confidence": None if human else det["conf"],
            "source": det.get("source", "machine"),
            "review": det.get("verdict") or "",
            "reviewer": det.get("reviewer") or "",
            "verified_category": CATEGORY_LABELS.get(verified, "") if verified else "",
            "species": det.get("species") or "",
            "x_min": x, "y_min": y, "width": w, "height": h,
            "x_min_px": round(x * px[0]), "y_min_px": round(y * px[1]),
            "width_px": round(w * px[0]), "height_px": round(h * px[1]),
        }
