"""What a finished run says about itself: model, thresholds, timing and the tallies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from model_server.detection import ModelInfo
from model_server.records import ImageRecord


@dataclass
class RunInfo:
    model: ModelInfo
    threshold: float
    render_threshold: float
    output_min_confidence: float
    started: datetime
    finished: datetime | None = None
    skipped: list[str] = field(default_factory=list)  # files that were not images

    @property
    def seconds(self) -> float:
        return ((self.finished or datetime.now()) - self.started).total_seconds()


LISTED_FAILURES = 100  # named on the job page; the rest are counted (the report has them all)


@dataclass
class Tally:
    """Counts built while the reports stream past; nothing per image is kept beyond the first
    `LISTED_FAILURES` unreadable files, named so the job page can say which they were."""

    images: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    detections: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, record: ImageRecord, threshold: float) -> None:
        self.images += 1
        self.outcomes[record.outcome(threshold)] += 1
        if record.failure is not None and len(self.failures) < LISTED_FAILURES:
            self.failures.append({"file": record.file, "reason": record.failure})
        for det in record.above(threshold):
            self.detections[det["category"]] += 1

    @property
    def errors(self) -> int:
        return self.outcomes["error"]

    def with_category(self, label: str) -> int:
        """Images in which `label` was found, alone or with other categories."""
        return sum(n for outcome, n in self.outcomes.items() if label in outcome.split("+"))
