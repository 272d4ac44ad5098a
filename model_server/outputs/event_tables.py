"""The Events and Deployments tables (Excel sheets and CSVs) and the Media rows' deployment and
event columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.camtrap_options import FROM_GPS, GIVEN, Place
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
    "species",  # named by reviewers, each with its MaxN: "Odocoileus virginianus (2)"
    "max_confidence",
    "reviewed_files",
    "counts_from",
    # what a reviewer confirmed for the whole event (tagged at once): the count is the animals
    # they counted, which may be more than the MaxN of its files
    "confirmed_species",
    "confirmed_count",
    "confirmed_by",  # the reviewer who tagged the event
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
    "position",  # given by the uploader | median of its files' GPS | "" (unknown)
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

    @classmethod
    def of(cls, found: list[Deployment], sequences: list[Event]) -> EventTables:
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
                "species": "; ".join(f"{name} ({n})" for name, n in e.species.items()),
                "max_confidence": e.max_conf,
                "reviewed_files": e.reviewed,
                "counts_from": e.source,
                "confirmed_species": e.tag.species or "" if e.tag else "",
                "confirmed_count": e.tag.count if e.tag else None,
                "confirmed_by": e.tag.reviewer if e.tag else "",
                **(e.tag.fields if e.tag else {}),  # the project's own fields, a column each
                "first_file": e.files[0],
                "notes": e.note,
            }
            for e in self.events
        ]

    def deployment_rows(self, places: Mapping[str, Place] | None = None) -> list[dict[str, Any]]:
        """`places`: coordinates the uploader gave, by deployment id or folder; they come
        before the median of the files' GPS, as in the Camtrap DP package."""
        animals: dict[str, int] = {}
        for e in self.events:
            animals[e.deployment] = animals.get(e.deployment, 0) + (1 if e.counts["animal"] else 0)
        rows = []
        for d in self.deployments:
            given = next((places[n] for n in (d.id, d.folder) if places and n in places), None)
            gps = (d.latitude, d.longitude) if d.latitude is not None else None
            lat, lon = given or gps or (None, None)
            rows.append(
                {
                    "deployment": d.id,
                    "folder": d.folder,
                    "serial": d.serial,
                    "start": d.start,
                    "end": d.end,
                    "make": d.make,
                    "model": d.model,
                    "latitude": lat,
                    "longitude": lon,
                    "position": GIVEN if given else FROM_GPS if gps else "",
                    "files": len(d.items),
                    "events": d.events,
                    "events_with_animals": animals.get(d.id, 0),
                }
            )
        return rows
