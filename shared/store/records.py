"""One media file's result as both processes see it: what the model server stores and what every
output and the site read back. Detections keep full precision; the outputs decide how to cut
them (MegaDetector's JSON truncates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# MegaDetector's category ids and names, in report order.
CATEGORY_LABELS = {"1": "animal", "2": "person", "3": "vehicle"}
COUNT_COLUMNS = {"1": "animals", "2": "persons", "3": "vehicles"}
OUTCOMES = ("animal", "person", "vehicle", "empty", "error")


def map_link(latitude: float | None, longitude: float | None) -> str:
    if latitude is None or longitude is None:
        return ""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


def outcome_of(categories: set[str], failed: bool) -> str:
    """`error`, `empty`, or the categories found joined in report order, e.g. `animal+person`."""
    if failed:
        return "error"
    names = [label for value, label in CATEGORY_LABELS.items() if value in categories]
    return "+".join(names) if names else "empty"


def outcomes_with(label: str) -> list[str]:
    """Every stored outcome that includes `label` (`animal` → animal, animal+person, ...)."""
    if label in ("empty", "error"):
        return [label]
    labels = list(CATEGORY_LABELS.values())
    combos = [[lab for i, lab in enumerate(labels) if mask >> i & 1] for mask in range(1, 8)]
    return ["+".join(c) for c in combos if label in c]


@dataclass
class MediaRecord:
    """`detections` are {"category": "1", "conf": 0.93, "bbox": [x, y, w, h]} (normalised).
    `metadata` holds what EXIF said: captured (ISO text), captured_from, make, model, serial,
    latitude, longitude, altitude_m, altitude_ref, map_link, exif_notes."""

    file: str
    detections: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    width: int | None = None
    height: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    annotated: str = ""  # file name of the annotated copy in the work folder
    thumbnail: str = ""  # file name of the small annotated copy in the job's media folder
    ordinal: int = 0  # position in the upload (sorted by path)
    kind: str = "image"

    def above(self, threshold: float) -> list[dict[str, Any]]:
        return [d for d in self.detections if d["conf"] >= threshold]

    def outcome(self, threshold: float) -> str:
        return outcome_of({d["category"] for d in self.above(threshold)}, self.failure is not None)

    @property
    def folder(self) -> str:
        return self.file.rpartition("/")[0]

    @property
    def captured(self) -> datetime | None:
        raw = self.metadata.get("captured")
        return datetime.fromisoformat(raw) if raw else None

    @property
    def max_conf(self) -> float | None:
        return max((d["conf"] for d in self.detections), default=None)
