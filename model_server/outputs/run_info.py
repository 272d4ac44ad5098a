"""What a finished run says about itself: model, thresholds, timing and the tallies."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from model_server.detectors.base import Category, ModelInfo
from shared.camtrap_options import DEFAULT_UTC_OFFSET, Place, places_from_json
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP
from shared.store.records import MediaRecord
from shared.store.writes import JobRow


@dataclass
class RunInfo:
    model: ModelInfo
    threshold: float
    render_threshold: float
    output_min_confidence: float
    started: datetime
    finished: datetime | None = None
    skipped: list[str] = field(default_factory=list)  # files that were not images
    event_gap: float = DEFAULT_EVENT_GAP  # seconds
    deployment_level: int = DEFAULT_DEPLOYMENT_LEVEL  # folder level of a deployment
    sorted_copies: bool = False  # annotated copies in the zip under a folder per outcome
    utc_offset: str = DEFAULT_UTC_OFFSET  # of the cameras' clocks, for Camtrap DP
    places: dict[str, Place] = field(default_factory=dict)  # deployment -> (lat, lon) given
    # the class set that suggested species ({} when none): set, embedder, classes, thresholds
    species: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return ((self.finished or datetime.now()) - self.started).total_seconds()


LISTED_FAILURES = 100  # named on the job page; the rest are counted (the report has them all)


@dataclass
class Tally:
    """Counts built while the reports stream past; nothing per image is kept beyond the first
    `LISTED_FAILURES` unreadable files, named so the job page can say which they were."""

    images: int = 0  # photos and videos
    videos: int = 0
    frames_checked: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    detections: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)
    verified: Counter[str] = field(default_factory=Counter)  # reviewed images, their outcome
    # detections at the threshold by (capture hour, category id) and by (folder, category id);
    # a folder's images under (folder, "images")
    hours: Counter[tuple[int, str]] = field(default_factory=Counter)
    folders: Counter[tuple[str, str]] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)  # events by outcome
    events_reviewed: Counter[str] = field(default_factory=Counter)  # with a reviewed file
    deployments: int = 0
    camtrap: dict[str, Any] = field(default_factory=dict)  # the Camtrap DP package's facts

    def add(self, record: MediaRecord, threshold: float) -> None:
        self.images += 1
        if record.kind == "video":
            self.videos += 1
            self.frames_checked += len((record.video or {}).get("frames_processed") or [])
        if record.review:
            self.verified[record.verified_outcome or "empty"] += 1
        # every figure counts the review where there is one (`verified` says how much of each)
        self.outcomes[record.final_outcome(threshold)] += 1
        if record.failure is not None and len(self.failures) < LISTED_FAILURES:
            self.failures.append({"file": record.file, "reason": record.failure})
        self.folders[(record.folder, "images")] += 1
        captured = record.captured
        # a video counts the most boxes seen in one frame, not one per frame it was seen in
        for category, n in record.final_counts(threshold).items():
            if not n:
                continue
            self.detections[category] += n
            self.folders[(record.folder, category)] += n
            if captured is not None:
                self.hours[(captured.hour, category)] += n

    def as_counts(self) -> dict[str, Any]:
        """What the store keeps in the job's `counts`."""
        return {"outcomes": dict(self.outcomes), "detections": dict(self.detections)}

    def summary(self, threshold: float, warnings: list[str]) -> dict[str, Any]:
        """What the job's record shows on the site."""
        return {
            "images": self.images,
            "videos": self.videos,
            "errors": self.errors,
            "animal": self.with_category("animal"),
            "person": self.with_category("person"),
            "vehicle": self.with_category("vehicle"),
            "empty": self.outcomes["empty"],
            "threshold": threshold,
            "warnings": warnings,
            "failures": self.failures,
            "more_failures": self.errors - len(self.failures),
            "reviewed": sum(self.verified.values()),
            "camtrap_dp": self.camtrap,
        }

    @property
    def errors(self) -> int:
        return self.outcomes["error"]

    def with_category(self, label: str) -> int:
        """Images in which `label` was found, alone or with other categories."""
        return sum(n for outcome, n in self.outcomes.items() if label in outcome.split("+"))


def job_row_for(job_id: str, run: RunInfo, *, created: datetime) -> JobRow:
    """The job's row in the store as this run starts it."""
    meta = {**asdict(run.model), "categories": [c.value for c in run.model.categories]}
    return JobRow(
        id=job_id,
        created_at=created,
        started_at=run.started,
        model_name=run.model.name,
        model_meta=meta,
        threshold=run.threshold,
        render_threshold=run.render_threshold,
        min_confidence=run.output_min_confidence,
        skipped=list(run.skipped),
    )


def run_from_job(job: JobRow) -> RunInfo:
    """A stored job's run again, for an export made after it finished. Times come back as this
    machine's local time, as the run itself wrote them."""
    meta = dict(job.model_meta)
    meta["categories"] = tuple(Category(c) for c in meta.get("categories", ()))
    started = job.started_at or job.created_at
    finished = job.finished_at
    return RunInfo(
        ModelInfo(**meta),
        job.threshold,
        job.render_threshold,
        job.min_confidence,
        started.astimezone().replace(tzinfo=None),
        finished.astimezone().replace(tzinfo=None) if finished else None,
        skipped=list(job.skipped),
        event_gap=float(job.options.get("event_gap", DEFAULT_EVENT_GAP)),
        deployment_level=int(job.options.get("deployment_level", DEFAULT_DEPLOYMENT_LEVEL)),
        sorted_copies=bool(job.options.get("sorted_copies", False)),
        utc_offset=str(job.options.get("utc_offset") or DEFAULT_UTC_OFFSET),
        places=places_from_json(job.options.get("places")),
        species=dict(job.options.get("species") or {}),
    )
