"""Runs of frames a camera could not see through: near black (a covered lens, a failed flash or
infrared lamp) or near white (a flash against something close, a lens in the sun), in time
order at one location. One dark frame is a night without an animal in range; a run of them is
worth a look, and the span can be made an operation gap."""

from __future__ import annotations

from collections.abc import Sequence

from shared.ecology.clock_check import Frame
from shared.ecology.findings import Finding

BLACK_BELOW = 0.04  # mean level, 0-1
WHITE_ABOVE = 0.96
RUN = 5  # frames in a row


def exposure_warnings(frames: Sequence[Frame], run: int = RUN) -> list[Finding]:
    """One finding per run of at least `run` near-black or near-white frames, its span from
    the first to the last of them."""
    said: list[Finding] = []
    ordered = sorted(
        (f for f in frames if f.brightness is not None), key=lambda f: (f.captured, f.path)
    )
    start = 0
    while start < len(ordered):
        kind = _kind(ordered[start])
        end = start + 1
        while kind and end < len(ordered) and _kind(ordered[end]) == kind:
            end += 1
        if kind and end - start >= run:
            first, last = ordered[start], ordered[end - 1]
            why = "lens covered or flash failed?" if kind == "black" else "flash or sun glare?"
            text = (
                f"{end - start} near-{kind} frames in a row from "
                f"{first.captured.isoformat(sep=' ')} to {last.captured.isoformat(sep=' ')} "
                f"({first.path} to {last.path}): {why}"
            )
            said.append(Finding(kind, text, first.captured, last.captured))
        start = end
    return said


def exposed(frame: Frame) -> bool:
    """Neither near black nor near white: a frame that shows what the camera faces."""
    return not _kind(frame)


def _kind(frame: Frame) -> str:
    level = frame.brightness if frame.brightness is not None else 0.5
    return "black" if level < BLACK_BELOW else "white" if level > WHITE_ABOVE else ""
