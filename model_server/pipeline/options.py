"""A batch's options and its per-stage clock."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from model_server.outputs.excel_report import EXCEL_MAX_ROWS
from shared.camtrap_options import DEFAULT_UTC_OFFSET, Place
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP
from shared.settings import Settings
from shared.video_options import DEFAULT_FRAME_INTERVAL, DEFAULT_MAX_FRAMES

STAGES = ("read", "decode", "exif", "inference", "drawing", "encoding", "store", "report", "zip")


@dataclass(frozen=True)
class PipelineOptions:
    threshold: float | None = None  # None: the model's typical threshold
    render_threshold: float | None = None  # None: same as threshold
    output_min_confidence: float = 0.005
    max_image_pixels: int = 120_000_000
    max_file_bytes: int = 200 * 1024 * 1024
    jpeg_quality: int = 88
    loader_threads: int = 2
    max_pixels_in_flight: int = 150_000_000
    excel_max_rows: int = EXCEL_MAX_ROWS
    # The store is written in transactions of this many images, or sooner when this many
    # seconds have passed since the last one (a slow model loses little to a crash).
    commit_every: int = 250
    commit_seconds: float = 15.0
    thumbnail_size: int = 320  # the long side of the browser's thumbnails, in pixels
    view_size: int = 1280  # the long side of the review page's web rendition
    frame_interval: float = DEFAULT_FRAME_INTERVAL  # seconds between a video's checked frames
    max_frames: int = DEFAULT_MAX_FRAMES  # per video
    video_clips: bool = False  # an annotated MP4 of each video's checked frames in the zip
    event_gap: float = DEFAULT_EVENT_GAP  # seconds: a longer gap starts a new event
    deployment_level: int = DEFAULT_DEPLOYMENT_LEVEL  # folder level that is one camera
    sorted_copies: bool = False  # annotated copies in the zip under a folder per outcome
    # False: the reports alone — no annotated copies, thumbnails or renditions are drawn or
    # encoded, and JPEGs are decoded at the size the detector reads (Pillow's draft)
    copies: bool = True
    utc_offset: str = DEFAULT_UTC_OFFSET  # the cameras' clocks, for Camtrap DP's timestamps
    places: dict[str, Place] = field(default_factory=dict)  # deployment -> (lat, lon) given
    camtrap_dp_schemas: Path | None = None  # validate each Camtrap DP package against these

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> PipelineOptions:
        base = cls(
            threshold=settings.detection_threshold,
            render_threshold=settings.render_threshold,
            output_min_confidence=settings.output_min_confidence,
            max_image_pixels=settings.max_image_pixels,
            max_file_bytes=settings.max_file_bytes,
            jpeg_quality=settings.jpeg_quality,
            loader_threads=settings.loader_threads,
            max_pixels_in_flight=settings.max_pixels_in_flight,
            commit_every=settings.store_batch_images,
            view_size=settings.view_size,
            frame_interval=settings.video_frame_interval,
            max_frames=settings.video_max_frames,
            camtrap_dp_schemas=settings.camtrap_dp_schemas,
        )
        return cls(**{**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class StageClock:
    """Seconds spent per stage, summed over threads, and how many times each stage ran."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        with self._lock:
            self.seconds[stage] += now - started
            self.calls[stage] += 1
        return now
