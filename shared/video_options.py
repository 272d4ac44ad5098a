"""How a job samples its videos and groups its files into events: checked the same way by the
upload page, the API, the batch command and the settings, so a value is refused with the same
words wherever it is typed."""

from __future__ import annotations

DEFAULT_FRAME_INTERVAL = 1.0  # seconds, as AddaxAI samples
DEFAULT_MAX_FRAMES = 600
MAX_FRAME_INTERVAL = 3600.0


def parse_frame_interval(raw: str | float) -> float:
    """Seconds between the frames checked: a positive number up to an hour. (Shorter than one
    frame of a given video means every frame of it.)"""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"the frame interval {raw!r} is not a number of seconds") from None
    if not 0 < value <= MAX_FRAME_INTERVAL:
        raise ValueError(
            f"the frame interval must be more than 0 and at most "
            f"{MAX_FRAME_INTERVAL:g} seconds, not {value:g}"
        )
    return value


def parse_max_frames(raw: str | int) -> int:
    value = int(raw)
    if value < 2:
        raise ValueError("at least 2 frames per video (the first and the last)")
    return value


MAX_EVENT_GAP = 7 * 24 * 3600.0  # a week: longer would group whole surveys, not visits


def parse_event_gap(raw: str | float) -> float:
    """Seconds between two files of one event: 0 (every file its own event) up to a week."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"the event gap {raw!r} is not a number of seconds") from None
    if not 0 <= value <= MAX_EVENT_GAP:
        raise ValueError(f"the event gap must be 0 to {MAX_EVENT_GAP:g} seconds, not {value:g}")
    return value


def parse_deployment_level(raw: str | int) -> int:
    """Which folder level is one camera: 1 for `camera/…`, 2 for `site/camera/…`."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"the deployment folder level {raw!r} is not a whole number") from None
    if not 1 <= value <= 20:
        raise ValueError(f"the deployment folder level must be 1 to 20, not {value}")
    return value
