"""Cameras that check their own clock from their pictures. Trail cameras take colour photos by
day and grey infrared ones at night, so a grey frame while the sun is well up at the location,
or a colour frame in full dark, says the clock is off. Each whole-hour shift from -12 to +12 h
is tried; the one that leaves the fewest such frames is offered, ties going to the mistakes
cameras are known for (12 h, an AM/PM mix-up; then 1 h, summer time), then the smallest.

Frames near dawn and dusk (sun within `TWILIGHT` degrees of the horizon) and frames neither
clearly grey nor clearly coloured say nothing. A camera with a white flash takes colour photos
at night: a camera with hardly any grey frame (under 1 in 20) is taken to have one, and its
colour frames in the dark are not counted. Also flagged: capture times in the future, before
the period's set-up, and time going backwards from one file to the next of a card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise

from shared.ecology.findings import Finding
from shared.ecology.sun import sun_elevation

GREY_BELOW = 0.02  # chroma of an infrared frame (R = G = B but for JPEG noise)
COLOUR_ABOVE = 0.06
TWILIGHT = 6.0  # degrees: civil twilight either side of the horizon says nothing
MOST_FRAMES = 400  # frames weighed per location, spread evenly over its season
BACKWARDS = timedelta(minutes=1)  # smaller steps back are bursts stamped to the second


@dataclass(frozen=True)
class Frame:
    card: str  # the job id
    path: str
    ordinal: int
    captured: datetime
    chroma: float | None
    brightness: float | None = None
    layout: str | None = None  # what the camera faces (`view_check`)
    empty: bool = False  # nothing counted on it (the review where there is one)
    period: int | None = None  # its deployment period


@dataclass(frozen=True)
class ClockShift:
    frames: int  # frames that said something (clearly day or night, clearly grey or colour)
    wrong: int  # of them, how many disagree with the sun on the clock as it is
    shift_hours: int  # the shift that fits best (0: the clock looks right)
    wrong_after: int  # how many disagree after that shift

    @property
    def shifted(self) -> bool:
        return self.shift_hours != 0

    def public(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "wrong": self.wrong,
            "shift_hours": self.shift_hours,
            "wrong_after": self.wrong_after,
        }


def _preference(shift: int) -> tuple[int, int]:
    usual = 0 if shift == 0 else 1 if abs(shift) == 12 else 2 if abs(shift) == 1 else 3
    return usual, abs(shift)


def clock_shift(
    frames: Sequence[Frame], latitude: float, longitude: float, zone: timezone
) -> ClockShift | None:
    """The clock check of one location's photos; None when too few frames say anything."""
    weighed = [
        (f.captured, f.chroma < GREY_BELOW)
        for f in frames
        if f.chroma is not None and (f.chroma < GREY_BELOW or f.chroma > COLOUR_ABOVE)
    ]
    if len(weighed) > MOST_FRAMES:
        step = len(weighed) / MOST_FRAMES
        weighed = [weighed[int(i * step)] for i in range(MOST_FRAMES)]
    # a camera that never takes a grey frame has a white flash: its colour frames in the dark
    # say nothing about its clock
    white_flash = sum(grey for _, grey in weighed) < max(1, len(weighed) / 20)
    scores: dict[int, tuple[int, int]] = {}
    for shift in range(-12, 13):
        day_grey = night_colour = counted = 0
        for captured, grey in weighed:
            height = sun_elevation(latitude, longitude, captured + timedelta(hours=shift), zone)
            if height > TWILIGHT:
                counted += 1
                day_grey += grey
            elif height < -TWILIGHT:
                counted += 1
                night_colour += not grey
        scores[shift] = (day_grey + (0 if white_flash else night_colour), counted)
    wrong, frames_said = scores[0]
    if frames_said < 3:
        return None
    best = min(scores, key=lambda s: (scores[s][0], *_preference(s)))
    return ClockShift(frames_said, wrong, best, scores[best][0])


def clock_looks_off(found: ClockShift) -> bool:
    """More than a tenth of the telling frames (and at least three) disagree with the sun, and
    a shift would halve them."""
    return (
        found.shifted
        and found.wrong >= max(3, found.frames / 10)
        and found.wrong_after * 2 <= found.wrong
    )


def time_warnings(
    frames: Sequence[Frame], *, now: datetime, set_up: datetime | None = None
) -> list[Finding]:
    """Capture times in the future, before the set-up, and going backwards within a card."""
    said: list[Finding] = []
    future = [f for f in frames if f.captured > now]
    if future:
        text = f"{len(future)} file(s) are dated in the future (first: {future[0].path})"
        said.append(Finding("future", text))
    if set_up is not None:
        early = [f for f in frames if f.captured < set_up]
        if early:
            text = (
                f"{len(early)} file(s) are dated before the set-up at "
                f"{set_up.isoformat(sep=' ')} (first: {early[0].path})"
            )
            said.append(Finding("before-set-up", text))
    by_card: dict[str, list[Frame]] = {}
    for f in frames:
        by_card.setdefault(f.card, []).append(f)
    for card, files in by_card.items():
        files.sort(key=lambda f: f.ordinal)
        back = [
            (a, b)
            for a, b in pairwise(files)
            if b.captured < a.captured - BACKWARDS and _same_folder(a.path, b.path)
        ]
        if back:
            a, b = back[0]
            text = (
                f"time goes backwards {len(back)} time(s) in card {card[:12]} (first: "
                f"{b.path} at {b.captured.isoformat(sep=' ')} after {a.path} at "
                f"{a.captured.isoformat(sep=' ')})"
            )
            said.append(Finding("backwards", text))
    return said


def _same_folder(a: str, b: str) -> bool:
    return a.rpartition("/")[0] == b.rpartition("/")[0]
