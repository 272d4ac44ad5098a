"""Figures worked out by hand on five images: a tie at the threshold, a box overlapping its
truth by exactly IoU 0.5, an image with two categories, a miss below the threshold, and files
present on one side only."""

from __future__ import annotations

import pytest

from shared.evaluation.metrics import evaluate, full_curve, iou, recall_target
from shared.evaluation.model import Box, Predicted, Truth, TruthSet
from shared.evaluation.report import against_truth


def box(category: str, x: float, y: float, w: float, h: float, conf: float = 1.0) -> Box:
    return Box(category, (x, y, w, h), conf)


PREDICTED = [
    # IoU with its truth exactly 0.5: counts as found
    Predicted("site/a.jpg", [box("animal", 0, 0, 0.5, 0.25, 0.9)]),
    # confidence equal to the threshold: counts, but nothing is there
    Predicted("site/b.jpg", [box("animal", 0.5, 0.5, 0.2, 0.2, 0.5)]),
    # just below the threshold: a miss
    Predicted("site/c.jpg", [box("animal", 0.1, 0.1, 0.2, 0.2, 0.49)]),
    # animal box overlapping its truth by IoU 1/3 only; the person box exact
    Predicted(
        "site/d.jpg",
        [box("person", 0.6, 0.6, 0.1, 0.1, 0.7), box("animal", 0.25, 0.125, 0.25, 0.25, 0.6)],
    ),
    Predicted("site/e.jpg", []),
    Predicted("site/f.jpg", [box("animal", 0, 0, 0.1, 0.1, 0.99)]),  # no truth for it
    Predicted("site/broken.jpg", [], failed=True),
]
TRUTH = TruthSet(
    {
        "a.jpg": Truth("a.jpg", frozenset({"animal"}), [box("animal", 0, 0, 0.5, 0.5)]),
        "b.jpg": Truth("b.jpg", frozenset(), []),
        "c.jpg": Truth("c.jpg", frozenset({"animal"}), [box("animal", 0.1, 0.1, 0.2, 0.2)]),
        "d.jpg": Truth(
            "d.jpg",
            frozenset({"animal", "person"}),
            [box("animal", 0.125, 0.125, 0.25, 0.25), box("person", 0.6, 0.6, 0.1, 0.1)],
        ),
        "e.jpg": Truth("e.jpg", frozenset(), []),
        "g.jpg": Truth("g.jpg", frozenset({"animal"})),  # no result for it
        "broken.jpg": Truth("broken.jpg", frozenset({"animal"})),
    },
    "hand-made",
)


def rows(report: dict, key: str = "categories") -> dict[str, tuple]:
    return {
        r["category"]: (
            r["true_positives"],
            r["false_positives"],
            r["misses"],
            r["precision"],
            r["recall"],
        )
        for r in report[key]
    }


@pytest.fixture
def report() -> dict:
    return against_truth(PREDICTED, TRUTH, 0.5, recall=0.9)


def test_image_level_counts_ties_at_the_threshold(report) -> None:
    assert report["images"] == 5 and report["iou"] == 0.5
    found = rows(report)
    assert found["animal"] == (2, 1, 1, pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert found["person"] == (1, 0, 0, 1.0, 1.0)
    assert found["vehicle"] == (0, 0, 0, None, None)  # nothing to divide by: undefined
    assert found["non-empty"] == (2, 1, 1, pytest.approx(2 / 3), pytest.approx(2 / 3))
    f1 = {r["category"]: r["f1"] for r in report["categories"]}
    assert f1["animal"] == pytest.approx(2 / 3) and f1["vehicle"] is None


def test_box_level_pairs_at_iou_half(report) -> None:
    assert iou((0, 0, 0.5, 0.5), (0, 0, 0.5, 0.25)) == 0.5
    assert iou((0.125, 0.125, 0.25, 0.25), (0.25, 0.125, 0.25, 0.25)) == pytest.approx(1 / 3)
    found = rows(report, "boxes")
    assert found["animal"][:3] == (1, 2, 2)  # a found; b and d's box wrong; c and d's missed
    assert found["person"][:3] == (1, 0, 0)


def test_the_most_confident_box_takes_the_truth_and_a_duplicate_is_a_false_alarm() -> None:
    predicted = [
        Predicted(
            "x.jpg", [box("animal", 0, 0, 0.5, 0.5, 0.8), box("animal", 0, 0, 0.5, 0.25, 0.9)]
        )
    ]
    truth = TruthSet(
        {"x.jpg": Truth("x.jpg", frozenset({"animal"}), [box("animal", 0, 0, 0.5, 0.5)])},
        "hand-made",
    )
    found = rows(against_truth(predicted, truth, 0.5), "boxes")
    assert found["animal"][:3] == (1, 1, 0)


def test_a_video_box_matches_only_a_truth_box_of_its_own_frame() -> None:
    same = (0.1, 0.1, 0.3, 0.3)
    predicted = [
        Predicted("v.mp4", [Box("animal", same, 0.9, frame=0), Box("animal", same, 0.8, frame=30)])
    ]
    truth = TruthSet(
        {
            "v.mp4": Truth(
                "v.mp4",
                frozenset({"animal"}),
                [Box("animal", same, frame=30), Box("animal", same, frame=60)],
            )
        },
        "hand-made",
    )
    found = rows(against_truth(predicted, truth, 0.5), "boxes")
    assert found["animal"][:3] == (1, 1, 1)  # frame 30 found; 0 a false alarm; 60 missed
    untied = TruthSet(
        {"v.mp4": Truth("v.mp4", frozenset({"animal"}), [Box("animal", same)])}, "hand-made"
    )  # a truth box not tied to a frame
    assert rows(against_truth(predicted, untied, 0.5), "boxes")["animal"][:3] == (1, 1, 0)


def test_confusion_counts_an_image_under_each_of_its_categories(report) -> None:
    table = report["confusion"]
    assert table["animal"] == {"animal": 2, "person": 1, "vehicle": 0, "empty": 1}
    assert table["person"] == {"animal": 1, "person": 1, "vehicle": 0, "empty": 0}
    assert table["empty"] == {"animal": 1, "person": 0, "vehicle": 0, "empty": 1}
    assert table["vehicle"] == dict.fromkeys(("animal", "person", "vehicle", "empty"), 0)


def test_curve_and_the_threshold_for_a_recall(report) -> None:
    curve = [(p["threshold"], p["precision"], p["recall"]) for p in report["curves"]["animal"]]
    assert curve == [
        (0.9, 1.0, pytest.approx(1 / 3)),
        (0.6, 1.0, pytest.approx(2 / 3)),
        (0.5, pytest.approx(2 / 3), pytest.approx(2 / 3)),
        (0.49, 0.75, 1.0),
    ]
    target = report["recall_target"]
    assert (target["threshold"], target["recall"], target["precision"]) == (0.49, 1.0, 0.75)
    assert target["images_to_review"] == 5  # a, b, c, d, and f which has no truth
    pairs = [(p, TRUTH.items[p.file.split("/")[1]]) for p in PREDICTED[:5]]
    assert recall_target(pairs, "animal", 0.6)["threshold"] == 0.6
    assert recall_target(pairs, "animal", 0.6, lambda label, t: 1234)["images_to_review"] == 1234
    assert recall_target(pairs, "vehicle", 0.5)["threshold"] is None
    assert full_curve(pairs, "vehicle") == []


def test_a_recall_the_boxes_cannot_reach_is_said_so() -> None:
    pairs = [
        (Predicted("a.jpg", []), Truth("a.jpg", frozenset({"animal"}))),
        (
            Predicted("b.jpg", [box("animal", 0, 0, 0.1, 0.1, 0.3)]),
            Truth("b.jpg", frozenset({"animal"})),
        ),
    ]
    target = recall_target(pairs, "animal", 0.9)
    assert target["threshold"] is None and target["best_recall"] == 0.5


def test_what_could_not_be_paired_is_listed_not_dropped(report) -> None:
    unpaired = report["unpaired"]
    assert unpaired["results_without_truth"] == {"count": 1, "files": ["site/f.jpg"]}
    assert unpaired["truth_without_result"] == {"count": 1, "files": ["g.jpg"]}
    assert unpaired["not_evaluated"]["files"] == [
        {"file": "site/broken.jpg", "reason": "the detector could not read this file"}
    ]


def test_two_results_ending_like_one_truth_file_are_not_guessed_between() -> None:
    predicted = [Predicted("cam1/IMG_1.JPG"), Predicted("cam2/IMG_1.JPG")]
    truth = TruthSet({"IMG_1.JPG": Truth("IMG_1.JPG", frozenset())}, "hand-made")
    report = against_truth(predicted, truth, 0.5)
    assert report["images"] == 0 and report["unpaired"]["not_evaluated"]["count"] == 2
    assert "No image could be compared" in report["warning"]


def test_few_images_are_warned_about_and_fifty_are_not() -> None:
    def pairs(n: int) -> list:
        return [(Predicted(f"{i}.jpg"), Truth(f"{i}.jpg", frozenset())) for i in range(n)]

    assert "49 image(s)" in evaluate(pairs(49), 0.5)["warning"]
    assert evaluate(pairs(50), 0.5)["warning"] == ""
