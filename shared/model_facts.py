"""What a detector can see, said the same way on every page: its name, the classes it detects
(MegaDetector's labels), and the threshold it suggests. The model server publishes its model's
facts with its heartbeat; a job keeps the facts of the model that ran it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.categories import CATEGORY_LABELS, LABELS

PLURALS = {"animal": "animals", "person": "people", "vehicle": "vehicles"}


def spoken(labels: list[str] | tuple[str, ...]) -> str:
    """ "animals", "animals and people", "animals, people and vehicles"."""
    words = [PLURALS[label] for label in LABELS if label in labels]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


@dataclass(frozen=True)
class ModelFacts:
    name: str
    classes: tuple[str, ...] = LABELS  # the labels it detects, in MegaDetector's order
    threshold: float | None = None  # the confidence it suggests counting from
    embedder: str = ""  # the species embedder its server has ("": class sets cannot be used)

    @classmethod
    def of_categories(
        cls, name: str, categories: list[str] | tuple[str, ...], threshold: float | None
    ) -> ModelFacts:
        """From MegaDetector category ids ("1", "2", "3"), as a job's model record keeps them."""
        found = tuple(CATEGORY_LABELS[c] for c in CATEGORY_LABELS if c in categories)
        return cls(name, found or LABELS, threshold)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(label for label in LABELS if label not in self.classes)

    def finds(self) -> str:
        """The header's sentence: what this model finds."""
        return f"finds {spoken(self.classes)} in camera-trap photos and videos"

    def not_detected(self) -> str:
        """ "" for a model of all three classes, else e.g. "people and vehicles are not
        detected by this model"."""
        if not self.missing:
            return ""
        return f"{spoken(self.missing)} are not detected by this model"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classes": list(self.classes),
            "threshold": self.threshold,
            "not_detected": self.not_detected(),
            "embedder": self.embedder,
        }

    def dumps(self) -> str:
        return json.dumps(self.as_json())

    @classmethod
    def loads(cls, text: str | None, name: str = "") -> ModelFacts:
        """What a heartbeat carried; a server of an older release sent its name alone."""
        try:
            raw = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        return cls.from_json(raw if isinstance(raw, dict) else {}, name)

    @classmethod
    def from_json(cls, raw: dict[str, Any], name: str = "") -> ModelFacts:
        classes = tuple(c for c in raw.get("classes") or LABELS if c in LABELS)
        threshold = raw.get("threshold")
        return cls(
            str(raw.get("name") or name),
            classes or LABELS,
            float(threshold) if isinstance(threshold, int | float) else None,
            str(raw.get("embedder") or ""),
        )
