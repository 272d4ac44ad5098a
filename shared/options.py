"""What the uploader chose for one job, as one value: built once from the upload form, the API
or the batch command's flags, checked once, and carried unchanged to the queue (the job's
record and the `.job.json` beside its upload), the pipeline (`PipelineOptions.job`) and the
results store. Each default is declared here and nowhere else; None means "the site's
setting" (frame interval) or the field's documented default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from shared.camtrap_options import DEFAULT_UTC_OFFSET, Place, parse_utc_offset, places_from_json
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP
from shared.video_options import parse_deployment_level, parse_event_gap, parse_frame_interval


@dataclass(frozen=True)
class JobOptions:
    frame_interval: float | None = None  # seconds between a video's checked frames
    video_clips: bool = False  # an annotated MP4 of each video's checked frames in the zip
    event_gap: float | None = None  # seconds: a longer gap starts a new event
    deployment_level: int | None = None  # the folder level that is one camera
    sorted_copies: bool = False  # annotated copies in the zip under a folder per outcome
    utc_offset: str | None = None  # of the cameras' clocks, for Camtrap DP
    places: Mapping[str, Place] = field(default_factory=dict)  # deployment -> (lat, lon)
    class_set: str = ""  # species suggested from this class set ("": none)
    # the reports alone: no annotated copies, thumbnails or renditions (faster; the results
    # page then has no pictures)
    reports_only: bool = False

    def __post_init__(self) -> None:
        """Values already parsed are checked again, so no path can carry a bad one."""
        if self.frame_interval is not None:
            object.__setattr__(self, "frame_interval", parse_frame_interval(self.frame_interval))
        if self.event_gap is not None:
            object.__setattr__(self, "event_gap", parse_event_gap(self.event_gap))
        if self.deployment_level is not None:
            level = parse_deployment_level(self.deployment_level)
            object.__setattr__(self, "deployment_level", level)
        if self.utc_offset is not None:
            object.__setattr__(self, "utc_offset", parse_utc_offset(self.utc_offset))
        checked = places_from_json({k: list(v) for k, v in dict(self.places).items()})
        if len(checked) != len(self.places):
            raise ValueError("every deployment's coordinates are a latitude and a longitude")
        object.__setattr__(self, "places", checked)
        for name in ("video_clips", "sorted_copies", "reports_only"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} is true or false")
        if not isinstance(self.class_set, str):
            raise TypeError("class_set is a class set's name")

    @property
    def gap(self) -> float:
        return DEFAULT_EVENT_GAP if self.event_gap is None else self.event_gap

    @property
    def level(self) -> int:
        return self.deployment_level or DEFAULT_DEPLOYMENT_LEVEL

    @property
    def offset(self) -> str:
        return self.utc_offset or DEFAULT_UTC_OFFSET

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["places"] = {name: list(place) for name, place in self.places.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> JobOptions:
        """From `to_json`'s output (or a record of the release that kept these fields flat on
        the job): unknown keys are ignored, missing ones take their defaults."""
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in (data or {}).items() if k in known and v is not None}
        if "places" in given:
            given["places"] = places_from_json(given["places"])
        return cls(**given)
