"""The gallery by event: a job's files in event order (deployment, then capture time) and the
files of one event, worked out from the stored results with the job's event gap and folder
level, for a page of the gallery and for "accept this event" in review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shared.events.grouping import by_file, deployments, events
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP, Event
from shared.store.event_data import event_items
from shared.store.reads import job_row


@dataclass(frozen=True)
class EventIndex:
    events: dict[str, Event]  # by id
    of_file: dict[str, Event]
    position: dict[str, int]  # a file's place in event order

    def files_of(self, event_id: str) -> frozenset[str] | None:
        event = self.events.get(event_id)
        return frozenset(event.files) if event else None

    def summary(self, path: str) -> dict[str, Any] | None:
        event = self.of_file.get(path)
        if event is None:
            return None
        return {"id": event.id, "deployment": event.deployment, "files": len(event.files),
                "start": event.start.isoformat() if event.start else None,
                "end": event.end.isoformat() if event.end else None,
                "outcome": event.outcome, "maxn": event.maxn}


def event_index(engine: Engine, job_id: str) -> EventIndex:
    job = job_row(engine, job_id)
    options = job.options if job is not None else {}
    gap = float(options.get("event_gap") or DEFAULT_EVENT_GAP)
    level = int(options.get("deployment_level") or DEFAULT_DEPLOYMENT_LEVEL)
    found = events(deployments(event_items(engine, job_id), level), gap)
    order = [path for event in found for path in event.files]
    return EventIndex({e.id: e for e in found}, by_file(found),
                      {path: n for n, path in enumerate(order)})
