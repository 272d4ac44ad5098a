"""Collects a truth file's rows into one Truth per file, whatever the format."""

from __future__ import annotations

from collections import Counter

from shared.errors import TruthError
from shared.evaluation.labels import is_species, label_of
from shared.evaluation.model import Box, Truth, TruthSet

Bbox = tuple[float, float, float, float]


def checked_box(values: list[float], where: str) -> Bbox:
    """A normalised [x, y, width, height] box, or a TruthError naming `where`."""
    x, y, w, h = values
    inside = 0 <= x <= 1 and 0 <= y <= 1 and 0 < w and 0 < h
    if not inside or x + w > 1.001 or y + h > 1.001:
        raise TruthError(
            f"{where}: the box {values} is not normalised to the image "
            f"(x, y, width, height between 0 and 1, as MegaDetector writes them)"
        )
    return (x, y, w, h)


class TruthBuilder:
    def __init__(self, source: str) -> None:
        self.source = source
        self._labels: dict[str, set[str]] = {}
        self._boxes: dict[str, list[Box]] = {}
        self._boxless: set[str] = set()  # files with a non-empty answer that has no box
        self._unanswered: dict[str, str] = {}
        self.species: Counter[str] = Counter()
        self.notes: list[str] = []

    def add(self, file: str, name: str, box: Bbox | None = None) -> None:
        """One answer about `file`: a category or species `name` and, maybe, where it is."""
        label = label_of(name)
        if label is None:
            self._unanswered.setdefault(file, f"the truth says '{name.strip()}' and nothing more")
            return
        self._labels.setdefault(file, set())
        if is_species(name):
            self.species[name.strip()] += 1
        if label == "empty":
            return
        self._labels[file].add(label)
        if box is None:
            self._boxless.add(file)
        else:
            self._boxes.setdefault(file, []).append(Box(label, box))

    def unusable(self, file: str, reason: str) -> None:
        self._unanswered.setdefault(file, reason)

    def build(self) -> TruthSet:
        """The truth, once: what was collected is handed over file by file, so the collection
        and the result are never both whole in memory."""
        items = {}
        for file in list(self._labels):
            labels = self._labels.pop(file)
            boxes = self._boxes.pop(file, [])
            boxed = file not in self._boxless and (bool(boxes) or not labels)
            items[file] = Truth(file, frozenset(labels), boxes if boxed else None)
        unusable = {f: r for f, r in self._unanswered.items() if f not in items}
        notes = list(self.notes)
        if self.species:
            names = ", ".join(name for name, _ in self.species.most_common(8))
            more = len(self.species) - 8
            notes.append(
                f"{sum(self.species.values())} answers named a species or another "
                f"category and count as 'animal': {names}"
                + (f" and {more} more" if more > 0 else "")
            )
        if unusable:
            notes.append(
                f"{len(unusable)} file(s) have no usable answer (unknown, unclassified "
                f"or not annotated) and are listed, not evaluated"
            )
        return TruthSet(items, self.source, notes, unusable)
