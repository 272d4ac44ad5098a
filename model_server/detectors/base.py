"""The detector interface: categories, one detection, what a model says about itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shared.categories import CATEGORY_LABELS
from shared.model_facts import ModelFacts


class Category(str, Enum):
    """MegaDetector's category ids, used as they are in its JSON."""

    ANIMAL = "1"
    PERSON = "2"
    VEHICLE = "3"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.value]


@dataclass(frozen=True)
class Detection:
    """One box. `bbox` is MegaDetector's normalised [x_min, y_min, width, height]."""

    category: Category
    conf: float
    bbox: tuple[float, float, float, float]

    def as_stored(self) -> dict[str, Any]:
        """The store's form: full precision, the category as MegaDetector's id."""
        return {
            "category": self.category.value,
            "conf": float(self.conf),
            "bbox": [float(v) for v in self.bbox],
        }


@dataclass(frozen=True)
class ModelInfo:
    """What a detector says about itself; written into every output so results name their model."""

    name: str  # e.g. "MegaDetector v4.1.0" or "YOLOX-Nano (COCO stand-in, not MegaDetector)"
    detector_id: str  # the `info.detector` string of MegaDetector's JSON, e.g. "md_v4.1.0.pb"
    typical_threshold: float
    conservative_threshold: float
    categories: tuple[Category, ...] = (Category.ANIMAL, Category.PERSON, Category.VEHICLE)
    is_megadetector: bool = False
    version: str = ""
    notes: str = ""
    # results reused from a MegaDetector file: that file's own provenance (its name, detector,
    # detection_completion_time and format_version), kept in the JSON written again
    source: dict[str, str] = field(default_factory=dict)

    def facts(self) -> ModelFacts:
        """What the site says about this model: its classes and suggested threshold."""
        return ModelFacts.of_categories(
            self.name, [c.value for c in self.categories], self.typical_threshold
        )


class Detector(Protocol):
    """Anything that turns one decoded RGB image into detections."""

    info: ModelInfo

    def detect(self, image: np.ndarray, source: str) -> list[Detection]:
        """`image` is HxWx3 uint8 RGB as the user sees it; `source` is its relative path."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PreparingDetector(Detector, Protocol):
    """A detector whose input preparation (the letterbox resize) can run on a loader thread,
    so that the thread running the model does only inference."""

    def prepare(self, image: np.ndarray) -> Any:
        """What `detect_prepared` takes, made from the same array `detect` takes."""
        ...

    def detect_prepared(self, prepared: Any) -> list[Detection]: ...


def clip_bbox(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
    """Corner coordinates (normalised) to a clipped MegaDetector bbox."""
    x1, x2 = min(max(x1, 0.0), 1.0), min(max(x2, 0.0), 1.0)
    y1, y2 = min(max(y1, 0.0), 1.0), min(max(y2, 0.0), 1.0)
    return (float(x1), float(y1), float(max(x2 - x1, 0.0)), float(max(y2 - y1, 0.0)))
