"""What deployments and events are made from and what they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.categories import LABELS

DEFAULT_EVENT_GAP = 60.0  # seconds, as MegaDetector and Wildlife Insights use
DEFAULT_DEPLOYMENT_LEVEL = 1  # top-level folders of the upload are deployments


@dataclass(frozen=True)
class Item:
    """One stored file as events see it: `counts` are its boxes per label at the threshold (a
    video's most crowded frame), or what its reviewer kept when `reviewed`; `species` the
    animals its reviewer named, counted the same way."""

    path: str
    captured: datetime | None
    counts: dict[str, int]
    max_conf: float | None
    failed: bool = False
    serial: str = ""
    make: str = ""
    model: str = ""
    latitude: float | None = None
    longitude: float | None = None
    reviewed: bool = False
    species: dict[str, int] = field(default_factory=dict)
    reviewer: str = ""
    duration: float = 0.0  # a video's seconds: it ends that long after it was captured

    @property
    def ends(self) -> datetime | None:
        if self.captured is None or not self.duration:
            return self.captured
        return self.captured + timedelta(seconds=self.duration)


@dataclass
class Deployment:
    id: str  # the folder, with the camera serial where one folder holds several cameras
    folder: str
    serial: str
    items: list[Item] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    make: str = ""
    model: str = ""
    latitude: float | None = None  # the median of its files' GPS positions
    longitude: float | None = None
    events: int = 0


@dataclass(frozen=True)
class EventTag:
    """A reviewer's species and count for the event starting with `first_path`."""

    first_path: str
    files: int
    species: str | None
    count: int
    reviewer: str
    fields: dict[str, Any] = field(default_factory=dict)  # the project's fields for it

    def public(self) -> dict[str, Any]:
        """As the events API and the gallery give it."""
        return {
            "species": self.species,
            "count": self.count,
            "reviewer": self.reviewer,
            "fields": self.fields,
        }


@dataclass
class Event:
    id: str
    deployment: str
    files: list[str]
    start: datetime | None
    end: datetime | None
    maxn: dict[str, int]  # the most boxes of each label in any one file
    max_conf: float | None
    failed: int = 0
    note: str = ""
    reviewed: int = 0  # of its files, how many a person reviewed
    species: dict[str, int] = field(default_factory=dict)  # named by reviewers, their MaxN
    reviewers: tuple[str, ...] = ()
    tag: EventTag | None = None  # the count (and species) a reviewer confirmed for it

    @property
    def source(self) -> str:
        """Where its counts come from: machine, reviewed (every readable file) or mixed."""
        readable = len(self.files) - self.failed
        if not self.reviewed:
            return "machine"
        return "reviewed" if self.reviewed >= readable else "mixed"

    @property
    def counts(self) -> dict[str, int]:
        """What the event counts per label: its MaxN, with the animals a reviewer confirmed
        for the whole event where they did."""
        if self.tag is None:
            return self.maxn
        return {**self.maxn, "animal": self.tag.count}

    @property
    def outcome(self) -> str:
        found = [label for label in LABELS if self.counts.get(label)]
        if found:
            return "+".join(found)
        return "error" if self.failed == len(self.files) else "empty"
