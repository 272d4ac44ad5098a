"""Held-out evaluation of species suggestions: what is held out together, and what is counted."""

from __future__ import annotations

import numpy as np

from shared.species.classifier import ClassSet
from shared.species.held_out import LabelledBox, evaluate_held_out, held_out_groups


def box(species: str, event: str, camera: str, *vector: float) -> LabelledBox:
    return LabelledBox(species, event, camera, np.array(vector, dtype=np.float64))


def teach(examples: dict[str, np.ndarray]):
    return ClassSet(dict(examples)).classify


def test_a_burst_and_a_camera_are_held_out_whole() -> None:
    boxes = [
        box("heron", "burst 1", "", 1, 0),
        box("fox", "visit 2", "cam A", 0, 1),
        box("heron", "burst 1", "cam B", 1, 0.1),  # links burst 1 to camera B
        box("fox", "visit 3", "cam A", 0, 1.1),  # camera A's second event
        box("fox", "visit 4", "", 0.1, 1),  # no camera known: linked by nothing else
        box("heron", "visit 5", "cam B", 1, 0.2),  # camera B, so with burst 1
    ]
    assert held_out_groups(boxes) == [[0, 2, 5], [1, 3], [4]]


def test_each_box_is_judged_by_a_set_that_never_saw_its_group() -> None:
    # two species of two events each, on separate cameras, and one species seen once
    boxes = [
        box("fox", "f1", "cam 1", 1.0, 0.0, 0.0),
        box("fox", "f2", "cam 2", 0.9998, 0.02, 0.0),
        box("badger", "b1", "cam 3", 0.0, 1.0, 0.0),
        box("badger", "b2", "cam 4", 0.02, 0.9998, 0.0),
        box("otter", "o1", "cam 5", 0.0, 0.0, 1.0),
    ]
    report = evaluate_held_out(boxes, teach)
    fox, badger, otter = (report.classes[s] for s in ("fox", "badger", "otter"))
    assert report.groups == 5
    assert (fox.boxes, fox.events, fox.trials, fox.top1, fox.top2) == (2, 2, 2, 2, 2)
    assert (badger.trials, badger.top1) == (2, 2)
    # the otter was never taught when it was asked: a new species, not a miss, and "unknown"
    # is the right answer for it
    assert (otter.trials, otter.new_trials, otter.new_unknown) == (0, 1, 1)
    assert not otter.named_as
    totals = report.totals()
    assert (totals.trials, totals.top1, totals.new_trials) == (4, 4, 1)
    # each of the 4 trials was asked of a set of 3 classes (the other group's box of its own
    # species, the other species and the otter)
    assert report.chance() == 1 / 3


def test_a_taught_species_named_wrong_or_unknown_is_counted_so() -> None:
    boxes = [
        box("fox", "f1", "", 1.0, 0.0),
        box("fox", "f2", "", 1.0, 0.01),
        box("fox", "f3", "", 0.0, 1.0),  # a fox that looks like a badger
        box("badger", "b1", "", 0.02, 1.0),
        box("badger", "b2", "", 0.0, 1.0),
    ]
    report = evaluate_held_out(boxes, teach)
    fox = report.classes["fox"]
    assert fox.trials == 3 and fox.top1 == 2
    assert fox.named_as == {"badger": 1}
    assert fox.top2 == 3  # the fox was the runner-up of its wrong answer
