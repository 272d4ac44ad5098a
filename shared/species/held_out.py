"""How well a way of naming species holds up on pictures it never saw: every labelled box is
asked of a class set taught from the *other* boxes only, holding out whole groups at a time, so
that a frame is never judged by a set that learnt its burst sibling or its camera's background.

A group is every box linked to another by the same event (a burst, one animal's visit) or the
same camera: one camera's events and one event's frames are held out together. A box whose
species has no example left outside its group is a *new species* to that set; the right answer
for it is "unknown".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from shared.species.classifier import UNKNOWN, Suggestion


@dataclass(frozen=True)
class LabelledBox:
    species: str
    event: str  # boxes of one burst or visit share it
    camera: str  # "" when the camera is not known: the box links by its event only
    vector: np.ndarray  # the box's embedding (L2-normalised)


# Teaches a set from examples by class and answers each vector; `ClassSet` is one such
# (`lambda examples: ClassSet(dict(examples)).classify`)
Teacher = Callable[[dict[str, np.ndarray]], Callable[[np.ndarray], list[Suggestion]]]


def held_out_groups(boxes: Sequence[LabelledBox]) -> list[list[int]]:
    """The indices of `boxes` in groups held out together: linked by a shared event or a known
    shared camera (transitively), in the order their first box appears."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[tuple[str, str], int] = {}
    for i, box in enumerate(boxes):
        for key in (("event", box.event), ("camera", box.camera)):
            if not key[1]:
                continue
            if key in first_of:
                parent[root(i)] = root(first_of[key])
            else:
                first_of[key] = i
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(boxes)):
        groups[root(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


@dataclass
class ClassFigures:
    """One species' answers over the held-out trials in which it was taught (from its boxes in
    other groups), and the trials in which it was new."""

    boxes: int = 0
    events: int = 0
    trials: int = 0  # boxes asked while other groups held examples of the species
    top1: int = 0  # the answer was the species
    top2: int = 0  # the species was the answer or the runner-up (before the "unknown" rule)
    unknown: int = 0  # "unknown" although the species was taught
    new_trials: int = 0  # boxes asked while no other group held the species
    new_unknown: int = 0  # of those, answered "unknown" (right)
    named_as: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # wrong names


@dataclass(frozen=True)
class HeldOutReport:
    classes: dict[str, ClassFigures]
    groups: int
    # per trial of a taught species, how many classes the set it was asked of had
    classes_taught: tuple[int, ...] = ()

    def totals(self) -> ClassFigures:
        total = ClassFigures()
        for figures in self.classes.values():
            for name in COUNTS:
                setattr(total, name, getattr(total, name) + getattr(figures, name))
        return total

    def chance(self) -> float:
        """Top-1 by guessing among the classes taught, averaged over the trials: the floor any
        figure must be read against."""
        return float(np.mean([1 / n for n in self.classes_taught])) if self.classes_taught else 0.0


COUNTS = ("boxes", "events", "trials", "top1", "top2", "unknown", "new_trials", "new_unknown")


def evaluate_held_out(boxes: Sequence[LabelledBox], teach: Teacher) -> HeldOutReport:
    """Each group of `boxes` asked of a set taught from all the other groups."""
    figures: dict[str, ClassFigures] = defaultdict(ClassFigures)
    events: dict[str, set[str]] = defaultdict(set)
    for box in boxes:
        figures[box.species].boxes += 1
        events[box.species].add(box.event)
    for species, seen in events.items():
        figures[species].events = len(seen)
    groups = held_out_groups(boxes)
    classes_taught: list[int] = []
    for group in groups:
        held = set(group)
        examples: dict[str, list[np.ndarray]] = defaultdict(list)
        for i, box in enumerate(boxes):
            if i not in held:
                examples[box.species].append(box.vector)
        if not examples:
            continue
        answer = teach({s: np.stack(v) for s, v in examples.items()})
        suggestions = answer(np.stack([boxes[i].vector for i in group]))
        for i, suggestion in zip(group, suggestions, strict=True):
            _count(figures[boxes[i].species], boxes[i].species, suggestion, examples)
            if boxes[i].species in examples:
                classes_taught.append(len(examples))
    return HeldOutReport(dict(figures), len(groups), tuple(classes_taught))


def _count(
    figures: ClassFigures, species: str, answer: Suggestion, taught: dict[str, list[np.ndarray]]
) -> None:
    if species not in taught:
        figures.new_trials += 1
        if answer.species == UNKNOWN:
            figures.new_unknown += 1
        else:
            figures.named_as[answer.species] += 1
        return
    figures.trials += 1
    figures.top1 += answer.species == species
    figures.top2 += species in (answer.nearest, answer.runner_up)
    figures.unknown += answer.species == UNKNOWN
    if answer.species not in (species, UNKNOWN):
        figures.named_as[answer.species] += 1
