"""The rows of the Images and Detections tables (Excel sheets and CSVs), made from stored media
records at the run's threshold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.store.records import CATEGORY_LABELS, MediaRecord

IMAGE_COLUMNS = (
    "file", "folder", "outcome", "animals", "persons", "vehicles", "max_confidence", "captured",
    "make", "model", "serial", "latitude", "longitude", "altitude_m", "altitude_ref",
    "map_link", "width", "height", "failure", "exif_notes",
)
DETECTION_COLUMNS = (
    "file", "category", "confidence", "x_min", "y_min", "width", "height",
    "x_min_px", "y_min_px", "width_px", "height_px",
)


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
        "captured": record.captured,
        **{k: meta.get(k) for k in ("make", "model", "serial", "latitude", "longitude",
                                    "altitude_m", "altitude_ref", "map_link")},
        "width": record.width,
        "height": record.height,
        "failure": record.failure or "",
        "exif_notes": meta.get("exif_notes", ""),
    }


def detection_rows(record: MediaRecord, threshold: float) -> Iterator[dict[str, Any]]:
    for det in record.above(threshold):
        x, y, w, h = det["bbox"]
        px = (record.width or 0, record.height or 0)
        yield {
            "file": record.file,
            "category": CATEGORY_LABELS[det["category"]],
            "confidence": det["conf"],
            "x_min": x, "y_min": y, "width": w, "height": h,
            "x_min_px": round(x * px[0]), "y_min_px": round(y * px[1]),
            "width_px": round(w * px[0]), "height_px": round(h * px[1]),
        }
