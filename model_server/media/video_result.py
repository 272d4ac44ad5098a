"""What the detector found in one video: the frames checked, their detections, the best frame
and the thumbnails, as the loader hands it to the writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from model_server.detectors.base import Detection


@dataclass
class VideoResult:
    facts: dict[str, Any]
    frames: list[tuple[int, float]] = field(default_factory=list)  # (number, seconds) sampled
    detections: list[dict[str, Any]] = field(default_factory=list)  # stored form, with "frame"
    thumbnails: dict[int, bytes] = field(default_factory=dict)  # frame number: JPEG
    best: Image.Image | None = None
    best_frame: int | None = None
    best_detections: list[Detection] = field(default_factory=list)
    clip: str = ""  # file name in the annotated folder
    notes: list[str] = field(default_factory=list)
    failure: str | None = None

    def summary(self) -> dict[str, Any]:
        """What the store keeps about the video beside its detections."""
        facts = self.facts
        return {
            "codec": facts["codec"],
            "frame_rate": facts["frame_rate"],
            "duration": facts["duration"],
            "interval": facts["interval"],
            "expected_frames": facts["expected_frames"],
            "frames_processed": [n for n, _ in self.frames],
            "frame_times": [t for _, t in self.frames],
            "best_frame": self.best_frame,
            "clip": self.clip,
        }
