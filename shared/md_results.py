"""Reading a MegaDetector results file (anyone's, any format version) and matching its file
names to other paths by their longest common tail. Reused detections and evaluation both read
results this way; nothing here needs TensorFlow."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared.categories import CATEGORY_IDS

# Names other tools give MegaDetector's categories.
CATEGORY_ALIASES = {"human": "person", "people": "person"}

MdTable = dict[str, list[dict[str, Any]] | None]


def path_tails(path: str) -> list[str]:
    """`a/b/c.jpg` → [`a/b/c.jpg`, `b/c.jpg`, `c.jpg`]: longest first."""
    parts = path.replace("\\", "/").strip("/").split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


class TailIndex:
    """Finds the name that shares the longest path tail with a query. A tail that two names
    share decides nothing, so `2024/cam1/IMG_1.JPG` finds `cam1/IMG_1.JPG` but never guesses
    between `cam1/IMG_1.JPG` and `cam2/IMG_1.JPG` for a bare `IMG_1.JPG`."""

    def __init__(self, names: Iterable[str]) -> None:
        self._index: dict[str, str | None] = {}
        for name in names:
            for tail in path_tails(name):
                self._index[tail] = None if tail in self._index else name

    def find(self, path: str) -> str | None:
        for tail in path_tails(path):
            if tail in self._index:
                found = self._index[tail]
                if found is not None:
                    return found
        return None


def load_md_results(path: Path) -> tuple[dict[str, Any], MdTable]:
    """Reads a MegaDetector results file: (info, {file: detections or None for failures}).
    Categories are mapped by name to Trapline's ids; categories it does not know are "no
    detection", as the format's description says."""
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return parse_md_results(data)


def parse_md_results(data: Any) -> tuple[dict[str, Any], MdTable]:
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise ValueError("not a MegaDetector results file: no 'images' list")  # noqa: TRY004
    categories = data.get("detection_categories") or {v: k for k, v in CATEGORY_IDS.items()}
    ids: dict[str, str] = {}
    for key, name in categories.items():
        label = str(name).strip().lower()
        label = CATEGORY_ALIASES.get(label, label)
        if label in CATEGORY_IDS:
            ids[str(key)] = CATEGORY_IDS[label]
    table: MdTable = {}
    for image in data["images"]:
        name = str(image.get("file", "")).replace("\\", "/")
        if image.get("failure") or image.get("detections") is None:
            table[name] = None
            continue
        table[name] = [
            {
                "category": ids[str(det.get("category"))],
                "conf": float(det["conf"]),
                "bbox": [float(v) for v in det["bbox"]],
            }
            for det in image["detections"]
            if str(det.get("category")) in ids
        ]
    return data.get("info") or {}, table


def typical_threshold(info: dict[str, Any]) -> float:
    """The threshold a results file suggests: its own `typical_detection_threshold`, else
    MegaDetector's published default for its generation (0.2 for v5, 0.8 for v4, which is what
    a file without a `detector` field is, per the format's description)."""
    meta = info.get("detector_metadata") or {}
    if "typical_detection_threshold" in meta:
        return float(meta["typical_detection_threshold"])
    return 0.2 if "v5" in str(info.get("detector") or "").lower() else 0.8
