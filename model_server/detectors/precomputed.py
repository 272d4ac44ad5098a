"""Reusing a MegaDetector results file someone already produced, in place of running a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model_server.detectors.base import Category, Detection, ModelInfo
from shared.errors import ImageError, InputError
from shared.md_results import TailIndex, load_md_results, typical_threshold


def _info(info: dict, source: Path) -> ModelInfo:
    detector = str(info.get("detector") or "md_v4.1.0.pb")  # the spec: no field means MDv4
    meta = info.get("detector_metadata") or {}
    is_v5 = "v5" in detector.lower()
    return ModelInfo(
        name=f"{detector} (results reused from {source.name})",
        detector_id=detector,
        version=str(meta.get("megadetector_version", "")),
        typical_threshold=typical_threshold(info),
        conservative_threshold=float(
            meta.get("conservative_detection_threshold", 0.05 if is_v5 else 0.3)
        ),
        is_megadetector="md" in detector.lower() or "megadetector" in detector.lower(),
        source={
            "file": source.name,
            **{
                key: str(info[key])
                for key in ("detector", "detection_completion_time", "format_version")
                if info.get(key)
            },
        },
    )


class PrecomputedDetections:
    """Looks each image up by its relative path; the longest matching tail of the path wins."""

    per_file = True  # one result per file: a video's frames cannot be told apart

    def __init__(self, path: Path) -> None:
        try:
            info, table = load_md_results(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path.name} is not a readable MegaDetector results file: {exc}"
            ) from None
        self.info = _info(info, path)
        self._table = table
        self._names = TailIndex(table)

    def lookup(self, source: str) -> list[Detection]:
        name = self._names.find(source)
        if name is None:
            raise ImageError("not found in the MegaDetector results file")
        dets = self._table[name]
        if dets is None:
            raise ImageError(f"the MegaDetector results file lists a failure for {name}")
        return [Detection(Category(d["category"]), d["conf"], tuple(d["bbox"])) for d in dets]

    def detect(self, image: np.ndarray, source: str = "") -> list[Detection]:
        return self.lookup(source)

    def close(self) -> None:
        self._table.clear()
