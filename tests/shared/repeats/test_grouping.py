"""Grouping one location's boxes into repeats (issue 29, item 1): the same place at IoU >= 0.85,
one category at a time, large boxes left out, suspected when many files and more than one event
(or much of the location); the grid index gives exactly the groups a scan of every group gives."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from shared.repeats.grouping import Box, RepeatRules, group_boxes, iou, suspected_repeats

START = datetime(2024, 5, 1, 6, 0)
RULES = RepeatRules()


def box(i: int, bbox, *, category: str = "animal", hours: float = 0, event: str = "") -> Box:
    return Box(i, 1000 + i, category, bbox, START + timedelta(hours=hours), event or f"e{i}")


def test_a_fixed_spot_is_one_group_and_the_rest_are_not_in_it() -> None:
    rng = random.Random(3)
    spot = (0.62, 0.41, 0.08, 0.12)
    fixed = [
        box(
            i,
            (
                spot[0] + rng.uniform(-0.002, 0.002),
                spot[1] + rng.uniform(-0.002, 0.002),
                0.08,
                0.12,
            ),
            hours=7 * i,
        )
        for i in range(30)
    ]
    elsewhere = [
        box(100 + i, (0.05 + 0.09 * i, 0.7, 0.07, 0.1), hours=3 * i + 1) for i in range(10)
    ]
    groups = group_boxes(fixed + elsewhere, RULES)
    top = groups[0]
    assert top.files == 30 and {b.id for b in top.boxes} == set(range(30))
    assert all(g.files == 1 for g in groups[1:]) and len(groups) == 11
    found = suspected_repeats(fixed + elsewhere, RULES, location_files=40)
    assert [g.leader.id for g in found] == [top.leader.id]
    assert top.first == START and top.last == START + timedelta(hours=7 * 29)
    assert top.days == len({(START + timedelta(hours=7 * i)).date() for i in range(30)})
    assert iou(top.bbox, spot) > 0.95  # the group's place is where the boxes are


def test_one_category_at_a_time_and_large_boxes_left_out() -> None:
    spot = (0.3, 0.3, 0.1, 0.1)
    animals = [box(i, spot, hours=i * 5) for i in range(12)]
    people = [box(50 + i, spot, category="person", hours=i * 5) for i in range(12)]
    large = [box(80 + i, (0.1, 0.1, 0.5, 0.5), hours=i * 5) for i in range(12)]  # 25 %
    groups = group_boxes(animals + people + large, RULES)
    assert sorted((g.category, g.files) for g in groups) == [("animal", 12), ("person", 12)]
    allowed = group_boxes(large, RepeatRules(max_box_area=0.3))
    assert [g.files for g in allowed] == [12]


def test_suspected_needs_many_files_and_more_than_one_visit() -> None:
    spot = (0.5, 0.5, 0.05, 0.05)
    one_visit = [box(i, spot, hours=0.01 * i, event="burst") for i in range(15)]
    (group,) = group_boxes(one_visit, RULES)
    assert group.events == 1
    # one long visit of an animal that stood still: not a repeat, unless it is most of the card
    assert not group.suspected(RULES, location_files=200)
    assert group.suspected(RULES, location_files=50)  # 15 of 50 files: over 20 %
    few = group_boxes([box(i, spot, hours=10 * i) for i in range(9)], RULES)
    assert few[0].events == 9 and not few[0].suspected(RULES, location_files=9)
    assert few[0].suspected(RepeatRules(min_files=9), location_files=9)


def test_the_iou_setting_decides_the_same_place() -> None:
    a, b = (0.4, 0.4, 0.1, 0.1), (0.41, 0.4, 0.1, 0.1)  # IoU 0.818
    assert 0.81 < iou(a, b) < 0.82
    assert len(group_boxes([box(1, a), box(2, b, hours=1)], RULES)) == 2
    assert len(group_boxes([box(1, a), box(2, b, hours=1)], RepeatRules(iou=0.8))) == 1


@pytest.mark.parametrize("threshold", [0.5, 0.85, 0.95])
def test_what_the_index_relies_on_holds_for_every_pair_that_overlaps_enough(
    threshold: float,
) -> None:
    """Sizes within a factor of the threshold, centres within (1 - t) of the larger size."""
    rng = random.Random(11)
    checked = 0
    for _ in range(20000):
        a = (rng.random() * 0.8, rng.random() * 0.8, rng.uniform(0.01, 0.2), rng.uniform(0.01, 0.2))
        jitter = rng.choice([0.3, 0.1, 0.02])  # of the box's own size
        b = tuple(v + rng.uniform(-jitter, jitter) * a[2 + i % 2] for i, v in enumerate(a))
        if b[2] <= 0 or b[3] <= 0 or iou(a, b) < threshold:
            continue
        checked += 1
        for i in (0, 1):
            size_a, size_b = a[2 + i], b[2 + i]
            assert threshold * size_a <= size_b + 1e-12 and size_b * threshold <= size_a + 1e-12
            apart = abs((a[i] + size_a / 2) - (b[i] + size_b / 2))
            assert apart <= (1 - threshold) * max(size_a, size_b) + 1e-12
    assert checked > 100


def test_the_index_finds_exactly_what_a_full_scan_finds() -> None:
    rng = random.Random(5)
    spots = [
        (rng.uniform(0, 0.8), rng.uniform(0, 0.8), rng.uniform(0.02, 0.3), rng.uniform(0.02, 0.3))
        for _ in range(40)
    ]
    boxes = []
    for i in range(3000):
        if rng.random() < 0.6:
            x, y, w, h = rng.choice(spots)
            bbox = (x + rng.gauss(0, 0.004), y + rng.gauss(0, 0.004), w, h)
        else:
            bbox = (
                rng.random() * 0.9,
                rng.random() * 0.9,
                rng.uniform(0.005, 0.4),
                rng.uniform(0.005, 0.4),
            )
        when = None if rng.random() < 0.05 else rng.uniform(0, 2000)
        boxes.append(
            Box(
                i,
                i // 2,
                rng.choice(["animal", "person"]),
                bbox,
                None if when is None else START + timedelta(hours=when),
            )
        )
    for rules in (RULES, RepeatRules(iou=0.5, max_box_area=0.5), RepeatRules(iou=1.0)):
        mine = sorted(sorted(b.id for b in g.boxes) for g in group_boxes(boxes, rules))
        scanned = group_boxes(boxes, rules, indexed=False)
        assert mine == sorted(sorted(b.id for b in g.boxes) for g in scanned)
        if rules.iou < 1:
            assert max(len(g) for g in mine) > 20  # the fixed spots were found


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        RepeatRules(iou=0)
    with pytest.raises(ValueError):
        RepeatRules(min_files=0)


def test_the_settings_give_the_rules() -> None:
    from shared.errors import SettingsError
    from shared.settings import Settings

    assert Settings.from_env({}).repeat_rules() == RepeatRules()
    env = {"TRAPLINE_REPEAT_IOU": "0.7", "TRAPLINE_REPEAT_MIN_FILES": "25"}
    assert Settings.from_env(env).repeat_rules() == RepeatRules(iou=0.7, min_files=25)
    with pytest.raises(SettingsError, match="TRAPLINE_REPEAT_IOU='0'"):
        Settings.from_env({"TRAPLINE_REPEAT_IOU": "0"})
