"""One media file's result as both processes see it: what the model server stores and what every
output and the site read back. Detections keep full precision; the outputs decide how to cut
them (MegaDetector's JSON truncates)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.categories import CATEGORY_LABELS

# The count columns of the reports, in MegaDetector's category order.
COUNT_COLUMNS = {"1": "animals", "2": "persons", "3": "vehicles"}
OUTCOMES = (*CATEGORY_LABELS.values(), "empty", "error")
# What a person said about a box: kept in the verified counts unless rejected.
KEPT_VERDICTS = ("accepted", "changed", "added")


def doubt_of(confidences: list[float], threshold: float) -> float:
    """How uncertain an image's outcome is: the distance from the threshold of its detection
    nearest to it (a box just above may be a false alarm, one just below a miss). An image with
    no detection at all is as far from the threshold as a zero confidence."""
    return min((abs(c - threshold) for c in confidences), default=threshold)


def map_link(latitude: float | None, longitude: float | None) -> str:
    if latitude is None or longitude is None:
        return ""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


def frame_thumbnail(thumbnail: str, frame: int) -> str:
    """The filmstrip thumbnail of a video's checked frame, beside the video's own thumbnail."""
    return f"{thumbnail.removesuffix('.jpg')}.f{frame:06d}.jpg"


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


def most_in_a_frame(boxes: Iterable[tuple[Any, str]]) -> dict[str, int]:
    """{category id: boxes} from (frame, category) pairs: a photo's boxes (frame None), or for
    a video the most of a category in any one checked frame."""
    per_frame = Counter(boxes)
    found = dict.fromkeys(CATEGORY_LABELS, 0)
    for (_, category), n in per_frame.items():
        found[category] = max(found.get(category, 0), n)
    return found


@dataclass
class MediaRecord:
    """`detections` are {"category": "1", "conf": 0.93, "bbox": [x, y, w, h]} (normalised).
    Read back from the store, detections also carry their `id`, `source` (machine | human) and
    what a reviewer said (`verdict`, `verified_category`, `species`, `reviewer`).
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
    view: str = ""  # file name of the clean web-sized rendition in the job's media folder
    review: str = ""  # "" (not reviewed) | accepted | changed | rejected
    reviewer: str = ""
    verified_outcome: str | None = None
    # a video's facts: codec, frame_rate, duration, interval, expected_frames,
    # frames_processed and frame_times (the checked frames), best_frame, clip
    video: dict[str, Any] | None = None

    @property
    def machine(self) -> list[dict[str, Any]]:
        return [d for d in self.detections if d.get("source", "machine") == "machine"]

    @property
    def counted(self) -> list[dict[str, Any]]:
        """The detector's boxes but those a location's repeat rule suppressed."""
        return [d for d in self.machine if d.get("suppressed_by") is None]

    @property
    def suppressed(self) -> list[dict[str, Any]]:
        return [d for d in self.machine if d.get("suppressed_by") is not None]

    def above(self, threshold: float) -> list[dict[str, Any]]:
        """The detector's counted boxes at or above `threshold` (a reviewer's drawn boxes are
        not, nor those a repeat rule suppressed)."""
        return [d for d in self.counted if d["conf"] >= threshold]

    def counts(self, threshold: float) -> dict[str, int]:
        """The detector's boxes per category at `threshold`; for a video, the most seen in any
        one checked frame (two frames of one deer are one deer, not two)."""
        return most_in_a_frame((d.get("frame"), d["category"]) for d in self.above(threshold))

    def kept(self) -> list[dict[str, Any]]:
        """The boxes a reviewer confirmed, changed or drew."""
        return [d for d in self.detections if d.get("verdict") in KEPT_VERDICTS]

    def verified_counts(self) -> dict[str, int]:
        """The reviewer's boxes per category they gave, counted as `counts` counts."""
        return most_in_a_frame(
            (d.get("frame"), d.get("verified_category") or d["category"]) for d in self.kept()
        )

    def final_counts(self, threshold: float) -> dict[str, int]:
        """What every figure counts: the review where there is one, the detector elsewhere."""
        return self.verified_counts() if self.review else self.counts(threshold)

    def final_outcome(self, threshold: float) -> str:
        if self.review:
            return self.verified_outcome or "empty"
        return self.outcome(threshold)

    def doubt(self, threshold: float) -> float | None:
        if self.failure is not None:
            return None
        return doubt_of([d["conf"] for d in self.counted], threshold)

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
    def camera_clock(self) -> datetime | None:
        """The camera's own capture time where a person corrected its clock (a project
        export's records; `captured` then has the corrected one)."""
        raw = self.metadata.get("camera_clock")
        return datetime.fromisoformat(raw) if raw else None

    @property
    def max_conf(self) -> float | None:
        return max((d["conf"] for d in self.machine), default=None)
