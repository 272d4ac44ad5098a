"""Adding up grouped rows of (group, outcome, reviewed?, images, boxes per category) into the
figures a summary shows, each saying how much of it a person reviewed: `basis` is `machine`
(nobody reviewed any of it), `reviewed` (all of it) or `mixed`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.categories import CATEGORY_LABELS
from shared.store.records import OUTCOMES, outcomes_with


def by_label(counts: dict[str, int]) -> dict[str, int]:
    """{outcome label: images}; an image with an animal and a person counts under both."""
    return {label: sum(counts.get(o, 0) for o in outcomes_with(label)) for label in OUTCOMES}


def basis(reviewed: int, of: int) -> str:
    if not reviewed:
        return "machine"
    return "reviewed" if reviewed >= of else "mixed"


@dataclass
class FigureTally:
    outcomes: Counter[str] = field(default_factory=Counter)
    reviewed: Counter[str] = field(default_factory=Counter)
    boxes: Counter[str] = field(default_factory=Counter)
    groups: dict[str, Counter[str]] = field(default_factory=dict)
    groups_reviewed: Counter[str] = field(default_factory=Counter)

    def add(
        self, group: str, outcome: str, reviewed: bool, images: int, sums: Sequence[Any]
    ) -> None:
        self.outcomes[outcome] += images
        self.groups.setdefault(group, Counter())[outcome] += images
        if reviewed:
            self.reviewed[outcome] += images
            self.groups_reviewed[group] += images
        for value, n in zip(CATEGORY_LABELS, sums, strict=True):
            self.boxes[value] += int(n or 0)

    def figures(self) -> dict[str, Any]:
        labelled = by_label(self.outcomes)
        images, reviewed = sum(self.outcomes.values()), sum(self.reviewed.values())
        return {
            "images": images,
            "outcomes": labelled,
            "categories": {
                label: {"images": labelled[label], "detections": self.boxes[value]}
                for value, label in CATEGORY_LABELS.items()
            },
            "reviewed": {"images": reviewed, "outcomes": by_label(self.reviewed)},
            "basis": basis(reviewed, images - self.outcomes["error"]),
        }

    def group_rows(self, name: str) -> list[dict[str, Any]]:
        rows = []
        for group, counts in sorted(self.groups.items()):
            images, reviewed = sum(counts.values()), self.groups_reviewed[group]
            rows.append(
                {
                    name: group,
                    "images": images,
                    **by_label(counts),
                    "reviewed": reviewed,
                    "basis": basis(reviewed, images - counts["error"]),
                }
            )
        return rows

    def folder_rows(self) -> list[dict[str, Any]]:
        return self.group_rows("folder")
