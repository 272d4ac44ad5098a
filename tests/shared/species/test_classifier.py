"""The nearest-centroid classifier's own rules, on vectors made here: a class is its examples'
mean, adding or removing one leaves the others' centroids as they were, far vectors are
"unknown", the runner-up is kept, and leave-one-out says how each class fares."""

from __future__ import annotations

import numpy as np
import pytest

from shared.species.classifier import UNKNOWN, ClassSet, leave_one_out


def cluster(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float) -> np.ndarray:
    return centre + spread * rng.standard_normal((n, centre.size))


@pytest.fixture
def three() -> tuple[ClassSet, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    centres = {name: rng.standard_normal(64) for name in ("fox", "deer", "cat")}
    classes = ClassSet()
    for name, centre in centres.items():
        classes.add(name, cluster(rng, centre, 8, 0.3))
    return classes, centres


def test_nearest_centroid_with_runner_up(three) -> None:
    classes, centres = three
    rng = np.random.default_rng(8)
    found = classes.classify(
        np.stack(
            [cluster(rng, centres["deer"], 1, 0.3)[0], cluster(rng, centres["fox"], 1, 0.3)[0]]
        )
    )
    assert [s.species for s in found] == ["deer", "fox"]
    assert found[0].runner_up in ("fox", "cat") and found[0].margin > 0


def test_far_from_every_class_is_unknown(three) -> None:
    classes, _ = three
    stranger = np.random.default_rng(99).standard_normal(64)
    assert classes.classify(stranger)[0].species == UNKNOWN


def test_adding_or_removing_a_class_leaves_the_others_alone(three) -> None:
    classes, _ = three
    before = {n: classes.centroid(n).copy() for n in classes.examples}
    classes.add("badger", np.random.default_rng(3).standard_normal((5, 64)))
    classes.remove("cat")
    for name in ("fox", "deer"):
        assert np.array_equal(classes.centroid(name), before[name])


def test_leave_one_out_counts_and_warns(three) -> None:
    classes, _ = three
    classes.add("owl", np.random.default_rng(4).standard_normal((2, 64)))
    result = leave_one_out(classes)
    assert result.accuracy["fox"] == result.accuracy["deer"] == result.accuracy["cat"] == 1.0
    assert sum(result.confusion["owl"].values()) == 2
    assert result.warnings == ["owl: only 2 example(s); add at least 5"]


def test_bad_input_is_refused() -> None:
    classes = ClassSet()
    with pytest.raises(ValueError, match="no classes"):
        classes.classify(np.ones(4))
    with pytest.raises(ValueError, match="cannot name a class"):
        classes.add(UNKNOWN, np.ones((1, 4)))
    with pytest.raises(ValueError, match="all zeros"):
        classes.add("fox", np.zeros((1, 4)))
