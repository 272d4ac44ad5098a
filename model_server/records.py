"""One image's result, its checkpoint file, and the rows every report is made from.

Results are appended to a JSON-lines checkpoint as they are produced, so nothing holds a whole
batch in memory, reports are written by streaming it, and a restarted job skips what is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from model_server.detection import Category, Detection

CATEGORY_ORDER = (Category.ANIMAL, Category.PERSON, Category.VEHICLE)


@dataclass
class ImageRecord:
    file: str
    detections: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    width: int | None = None
    height: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    annotated: str = ""  # file name of the annotated copy in the work folder

    @classmethod
    def from_detections(cls, file: str, dets: list[Detection], **kw: Any) -> ImageRecord:
        # full precision: the outputs decide how to cut (MegaDetector's JSON truncates)
        rows = [{"category": d.category.value, "conf": float(d.conf),
                 "bbox": [float(v) for v in d.bbox]} for d in dets]
        return cls(file=file, detections=rows, **kw)

    def above(self, threshold: float) -> list[dict[str, Any]]:
        return [d for d in self.detections if d["conf"] >= threshold]

    def outcome(self, threshold: float) -> str:
        """`error`, `empty`, or the categories found, e.g. `animal` or `animal+person`."""
        if self.failure is not None:
            return "error"
        found = {d["category"] for d in self.above(threshold)}
        names = [c.label for c in CATEGORY_ORDER if c.value in found]
        return "+".join(names) if names else "empty"

    @property
    def captured(self) -> datetime | None:
        raw = self.metadata.get("captured")
        return datetime.fromisoformat(raw) if raw else None


class Checkpoint:
    """Append-only JSON lines of ImageRecords in the job's work folder.

    A crash can cut the last line short (power loss, disk full): `repair()` drops it before
    anything is appended. A file may have been recorded twice (a resumed job that had written a
    line just before it was stopped); readers keep exactly one record per file, the last.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def repair(self) -> bool:
        """Truncates a torn last line; True when there was one."""
        if not self.path.exists():
            return False
        with self.path.open("rb+") as fh:
            size = fh.seek(0, 2)
            if size == 0:
                return False
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return False
            keep = 0
            fh.seek(0)
            for line in iter(fh.readline, b""):
                if line.endswith(b"\n"):
                    keep += len(line)
            fh.truncate(keep)
        return True

    def done_files(self) -> set[str]:
        return {record.file for record in self.read()}

    def _lines(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh):
                if not line.endswith("\n"):
                    break  # a line cut short by a crash: that image is simply done again
                yield number, line

    def read(self) -> Iterator[ImageRecord]:
        """One record per file (its last), in file order. A first pass finds the files recorded
        more than once, keeping only a hash per file (never the records or the names, so memory
        stays small per image); a second pass yields the records."""
        seen: set[int] = set()
        maybe_twice: set[str] = set()
        for _, line in self._lines():
            name = json.loads(line)["file"]
            if hash(name) in seen:
                maybe_twice.add(name)  # or a hash collision: settled by name below
            seen.add(hash(name))
        seen.clear()
        last: dict[str, int] = {}
        if maybe_twice:
            for number, line in self._lines():
                name = json.loads(line)["file"]
                if name in maybe_twice:
                    last[name] = number
        for number, line in self._lines():
            data = json.loads(line)
            if last.get(data["file"], number) == number:
                yield ImageRecord(**data)

    def append(self, record: ImageRecord) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")


IMAGE_COLUMNS = (
    "file", "folder", "outcome", "animals", "persons", "vehicles", "max_confidence", "captured",
    "make", "model", "serial", "latitude", "longitude", "altitude_m", "altitude_ref",
    "map_link", "width", "height", "failure", "exif_notes",
)
DETECTION_COLUMNS = (
    "file", "category", "confidence", "x_min", "y_min", "width", "height",
    "x_min_px", "y_min_px", "width_px", "height_px",
)


def image_row(record: ImageRecord, threshold: float) -> dict[str, Any]:
    kept = record.above(threshold)
    counts = {c: sum(1 for d in kept if d["category"] == c.value) for c in CATEGORY_ORDER}
    meta = record.metadata
    return {
        "file": record.file,
        "folder": record.file.rpartition("/")[0],  # the camera folder, "" at the top level
        "outcome": record.outcome(threshold),
        "animals": counts[Category.ANIMAL],
        "persons": counts[Category.PERSON],
        "vehicles": counts[Category.VEHICLE],
        "max_confidence": max((d["conf"] for d in record.detections), default=None),
        "captured": record.captured,
        **{k: meta.get(k) for k in ("make", "model", "serial", "latitude", "longitude",
                                    "altitude_m", "altitude_ref", "map_link")},
        "width": record.width,
        "height": record.height,
        "failure": record.failure or "",
        "exif_notes": meta.get("exif_notes", ""),
    }


def detection_rows(record: ImageRecord, threshold: float) -> Iterator[dict[str, Any]]:
    for det in record.above(threshold):
        x, y, w, h = det["bbox"]
        px = (record.width or 0, record.height or 0)
        yield {
            "file": record.file,
            "category": Category(det["category"]).label,
            "confidence": det["conf"],
            "x_min": x, "y_min": y, "width": w, "height": h,
            "x_min_px": round(x * px[0]), "y_min_px": round(y * px[1]),
            "width_px": round(w * px[0]), "height_px": round(h * px[1]),
        }
