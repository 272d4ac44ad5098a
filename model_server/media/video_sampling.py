"""Which frames of a video are checked: one every N seconds by presentation time, the first and
the last always, never more than a cap per video. Pure arithmetic, so it is tested without a
decoder."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingPlan:
    interval: float  # seconds between sampled frames, as used
    max_frames: int
    note: str = ""  # why the interval differs from the one asked for, if it does


def plan_sampling(
    requested: float, max_frames: int, *, frame_rate: float | None, duration: float | None
) -> SamplingPlan:
    """The interval to use: never shorter than one frame, and widened so that a video of known
    length stays within `max_frames` (its first and last frames included)."""
    if requested <= 0 or max_frames < 2:
        raise ValueError("the frame interval must be positive and the cap at least 2 frames")
    interval, notes = requested, []
    if frame_rate and interval < 1 / frame_rate:
        interval = 1 / frame_rate
        notes.append(
            f"every frame was checked (the video has {frame_rate:g} frames a second, "
            f"fewer than one per {requested:g} s)"
        )
    if duration and math.floor(duration / interval) + 2 > max_frames:
        # n grid points from 0 plus the last frame must stay within the cap
        widened = math.ceil(duration / (max_frames - 2) * 1000) / 1000
        notes.append(
            f"sampled every {widened:g} s instead of {interval:g} s to stay within "
            f"{max_frames} frames per video"
        )
        interval = widened
    return SamplingPlan(interval, max_frames, "; ".join(notes))


class Sampler:
    """Says, frame by frame in presentation order, whether a frame is sampled: the first frame
    at or after each multiple of the interval (with half a frame of slack for timestamps that
    jitter), at most `max_frames - 1` of them so that the last frame always has room."""

    def __init__(self, plan: SamplingPlan, frame_rate: float | None) -> None:
        self.plan = plan
        self.slack = 0.5 / frame_rate if frame_rate else 0.0
        self.next_time = 0.0
        self.taken = 0
        self.capped = False

    def take(self, time: float) -> bool:
        if time + self.slack < self.next_time:
            return False
        if self.taken >= self.plan.max_frames - 1:
            self.capped = True
            return False
        self.taken += 1
        steps = math.floor((time + self.slack) / self.plan.interval) + 1
        self.next_time = max(self.next_time + self.plan.interval, steps * self.plan.interval)
        return True
