"""Seconds spent per stage of a run, summed over the threads that do them: read by the batch,
the loaders and the output writers alike, so it belongs to none of them."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

STAGES = (
    "read",
    "decode",
    "letterbox",
    "exif",
    "inference",
    "drawing",
    "encoding",
    "store",
    "report",
    "zip",
)


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
