"""Which frames of a video are checked: the arithmetic alone, frame times given by hand."""

from __future__ import annotations

import itertools

import pytest

from model_server.media.video_sampling import Sampler, SamplingPlan, plan_sampling


def sampled(times: list[float], plan: SamplingPlan, rate: float | None) -> list[float]:
    sampler = Sampler(plan, rate)
    taken = [t for t in times if sampler.take(t)]
    if times[-1] not in taken:  # the decoder always adds the last frame
        taken.append(times[-1])
    return taken


def test_one_frame_per_interval_from_the_first_and_the_last_always() -> None:
    times = [i / 30 for i in range(450)]  # 15 s at 30 fps
    plan = plan_sampling(1.0, 600, frame_rate=30, duration=15)
    assert plan == SamplingPlan(1.0, 600, "")
    taken = sampled(times, plan, 30)
    assert taken[:3] == [0.0, 1.0, 2.0] and taken[-2:] == [14.0, 449 / 30]
    assert len(taken) == 16


def test_jittered_timestamps_still_give_one_frame_per_interval() -> None:
    # 29.97 fps timestamps, slightly early or late around each second
    times = [i * 1001 / 30000 for i in range(300)]
    taken = sampled(times, plan_sampling(1.0, 600, frame_rate=29.97, duration=10.01), 29.97)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(taken[:-1])]
    assert all(0.96 <= g <= 1.04 for g in gaps), gaps
    assert len(taken) == 11


def test_an_interval_shorter_than_a_frame_means_every_frame_and_says_so() -> None:
    plan = plan_sampling(0.1, 600, frame_rate=1.0, duration=6.0)
    assert plan.interval == 1.0 and "every frame was checked" in plan.note
    assert sampled([float(i) for i in range(6)], plan, 1.0) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_long_video_widens_the_interval_to_stay_within_the_cap() -> None:
    plan = plan_sampling(1.0, 600, frame_rate=30, duration=3600.0)  # an hour
    assert plan.interval == pytest.approx(3600 / 598, abs=0.001)
    assert "instead of 1 s to stay within 600 frames" in plan.note
    times = [i / 30 for i in range(3600 * 30)]
    taken = sampled(times, plan, 30)
    assert len(taken) <= 600 and taken[0] == 0.0 and taken[-1] == times[-1]


def test_without_a_known_length_the_cap_keeps_room_for_the_last_frame() -> None:
    plan = plan_sampling(1.0, 5, frame_rate=None, duration=None)
    sampler = Sampler(plan, None)
    taken = [t for t in map(float, range(20)) if sampler.take(t)]
    assert taken == [0.0, 1.0, 2.0, 3.0] and sampler.capped  # the 5th place is the last frame's


@pytest.mark.parametrize(("interval", "cap"), [(0.0, 600), (-1.0, 600), (1.0, 1)])
def test_impossible_plans_are_refused(interval: float, cap: int) -> None:
    with pytest.raises(ValueError):
        plan_sampling(interval, cap, frame_rate=30, duration=10)
