"""What a YOLOX TFLite model needs to be fed and read: the shared YOLOX-Nano COCO export by its
tensor spec (BGR, 114 grey padding, bilinear), or a model Trapline installed (MegadetectorLite)
by the description written beside it (`<model>.json`: classes, channel order, padding,
resampling, thresholds and the TFLite file's SHA-256)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from model_server.detectors.base import Category, ModelInfo
from shared.categories import CATEGORY_IDS
from shared.errors import ModelLoadError

# 0-based COCO-80 indices (order of mscoco_label_map.pbtxt) mapped to MegaDetector categories.
COCO_TO_CATEGORY: dict[int, Category] = {
    0: Category.PERSON,
    **{k: Category.VEHICLE for k in (1, 2, 3, 5, 7)},
    **{k: Category.ANIMAL for k in range(14, 24)},
}
RESAMPLING = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}
LABELS = {label: Category(value) for label, value in CATEGORY_IDS.items()}


@dataclass(frozen=True)
class YoloxSpec:
    info: ModelInfo
    classes: dict[int, Category]  # the model's class index -> Trapline category
    class_count: int
    bgr: bool
    pad_value: int
    resample: Image.Resampling
    nms_iou: float = 0.45
    pixel_scale: float = 1.0  # YOLOX takes 0-255 as they are; YOLOv5 (MegaDetector v5) 0-1
    centred: bool = False  # the letterbox in the middle (YOLOv5) or at the top left (YOLOX)
    # intra-op threads when the setting leaves them open (0: every core). Measured in the
    # pipeline on 2 cores: YOLOX-Nano is faster with 1 (the loaders and writer need the other
    # core), MegadetectorLite with both (its inference dominates)
    default_threads: int = 0


def coco_spec(path: Path) -> YoloxSpec:
    info = ModelInfo(
        name=f"YOLOX ({path.stem}, COCO classes mapped to animal/person/vehicle; not MegaDetector)",
        detector_id=path.name,
        version=path.stem,
        typical_threshold=0.25,
        conservative_threshold=0.1,
        notes="A general COCO detector standing in for MegaDetector; it misses many animals.",
    )
    return YoloxSpec(
        info,
        COCO_TO_CATEGORY,
        80,
        bgr=True,
        pad_value=114,
        resample=Image.Resampling.BILINEAR,
        default_threads=1,
    )


def _described(path: Path, found: dict[str, Any]) -> YoloxSpec:
    feed = found["input"]
    classes = {i: LABELS[name] for i, name in enumerate(found["classes"])}
    source = found.get("source", {})
    info = ModelInfo(
        name=str(found["name"]),
        detector_id=path.name,
        version=f"{source.get('package', '')} {source.get('version', '')}".strip(),
        typical_threshold=float(found["typical_threshold"]),
        conservative_threshold=float(found["conservative_threshold"]),
        categories=tuple(sorted(set(classes.values()), key=lambda c: c.value)),
        notes=str(found.get("notes", "")),
    )
    return YoloxSpec(
        info,
        classes,
        len(classes),
        bgr=feed["channels"] == "BGR",
        pad_value=int(feed["pad_value"]),
        resample=RESAMPLING[feed["resample"]],
        nms_iou=float(found["nms_iou"]),
        default_threads=int(found.get("default_threads", 0)),
    )


def spec_for(path: Path) -> YoloxSpec:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return coco_spec(path)
    try:
        found = json.loads(sidecar.read_text(encoding="utf-8"))
        spec = _described(path, found)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{sidecar} does not describe the model: {exc}") from exc
    if found.get("tflite_sha256") != hashlib.sha256(path.read_bytes()).hexdigest():
        raise ModelLoadError(
            f"{path.name} does not match the checksum in {sidecar.name}: "
            "install it again (`trapline-models install`)"
        )
    return spec
