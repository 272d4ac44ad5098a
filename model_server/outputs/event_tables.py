"""The Events and Deployments tables (Excel sheets and CSVs) and the Media rows' deployment and
event columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events.grouping import by_file, deployments, events
from shared.events.model import Deployment, Event, Item

EVENT_COLUMNS = (
    "deployment",
    "event_id",
    "start",
    "end",
    "files",
    "outcome",
    "animals_maxn",
    "persons_maxn",
    "vehicles_maxn",
    "max_confidence",
    "first_file",
    "notes",
)
DEPLOYMENT_COLUMNS = (
    "deployment",
    "folder",
    "serial",
    "start",
    "end",
    "make",
    "model",
    "latitude",
    "longitude",
    "files",
    "events",
    "events_with_animals",
)


@dataclass
class EventTables:
    deployments: list[Deployment]
    events: list[Event]
    of_file: dict[str, Event]

    @classmethod
    def build(cls, items: list[Item], *, gap_seconds: float, level: int) -> EventTables:
        found = deployments(items, level)
        sequences = events(found, gap_seconds)
        return cls(found, sequences, by_file(sequences))

    def media_columns(self, path: str) -> dict[str, Any]:
        event = self.of_file.get(path)
        return {"deployment": event.deployment, "event_id": event.id} if event else {}

    def event_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "deployment": e.deployment,
                "event_id": e.id,
                "start": e.start,
                "end": e.end,
                "files": len(e.files),
                "outcome": e.outcome,
                "animals_maxn": e.maxn["animal"],
                "persons_maxn": e.maxn["person"],
                "vehicles_maxn": e.maxn["vehicle"],
                "max_confidence": e.max_conf,
                "first_file": e.files[0],
                "notes": e.note,
            }
            for e in self.events
        ]

    def deployment_rows(self) -> list[dict[str, Any]]:
        animals: dict[str, int] = {}
        for e in self.events:
            animals[e.deployment] = animals.get(e.deployment, 0) + (1 if e.maxn["animal"] else 0)
        return [
            {
                "deployment": d.id,
                "folder": d.folder,
                "serial": d.serial,
                "start": d.start,
                "end": d.end,
                "make": d.make,
                "model": d.model,
                "latitude": d.latitude,
                "longitude": d.longitude,
                "files": len(d.items),
                "events": d.events,
                "events_with_animals": animals.get(d.id, 0),
            }
            for d in self.deployments
        ]
