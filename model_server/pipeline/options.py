"""A batch's options: the site's settings and the job's own choices."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model_server.outputs.excel_report import EXCEL_MAX_ROWS
from shared.camtrap_options import Place
from shared.options import JobOptions
from shared.settings import Settings
from shared.video_options import DEFAULT_FRAME_INTERVAL, DEFAULT_MAX_FRAMES


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
    database_patience: float = 120.0  # seconds to wait for a restarting PostgreSQL
    thumbnail_size: int = 320  # the long side of the browser's thumbnails, in pixels
    view_size: int = 1280  # the long side of the review page's web rendition
    site_frame_interval: float = DEFAULT_FRAME_INTERVAL  # when the job names none
    max_frames: int = DEFAULT_MAX_FRAMES  # per video
    camtrap_dp_schemas: Path | None = None  # validate each Camtrap DP package against these
    job: JobOptions = field(default_factory=JobOptions)  # what the uploader chose

    # What the job chose, with the defaults filled in (declared once, in JobOptions and the
    # site's settings): the names the pipeline reads.
    @property
    def frame_interval(self) -> float:
        return self.job.frame_interval or self.site_frame_interval

    @property
    def video_clips(self) -> bool:
        return self.job.video_clips

    @property
    def event_gap(self) -> float:
        return self.job.gap

    @property
    def deployment_level(self) -> int:
        return self.job.level

    @property
    def sorted_copies(self) -> bool:
        return self.job.sorted_copies

    @property
    def copies(self) -> bool:
        """False: the reports alone — no annotated copies, thumbnails or renditions are drawn or
        encoded, and JPEGs are decoded at the size the detector reads (Pillow's draft)."""
        return not self.job.reports_only

    @property
    def utc_offset(self) -> str:
        return self.job.offset

    @property
    def places(self) -> dict[str, Place]:
        return dict(self.job.places)

    @classmethod
    def from_settings(
        cls, settings: Settings, job: JobOptions | None = None, **overrides: Any
    ) -> PipelineOptions:
        """The site's settings, the job's own choices, and `overrides` (the batch command's
        flags for what the settings set)."""
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
            database_patience=settings.database_patience_seconds,
            view_size=settings.view_size,
            site_frame_interval=settings.video_frame_interval,
            max_frames=settings.video_max_frames,
            camtrap_dp_schemas=settings.camtrap_dp_schemas,
            job=job or JobOptions(),
        )
        # a flag left out (None) keeps the site's setting
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
