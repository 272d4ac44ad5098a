"""A job's suspected repeats, read from its stored boxes: the machine's boxes at the job's
threshold, each with the location (deployment) and event of its file as the events API sees
them, grouped location by location (`shared.repeats.grouping`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from shared.categories import CATEGORY_LABELS
from shared.repeats.grouping import Box, Group, RepeatRules, suspected_repeats
from shared.store.event_data import job_events
from shared.store.schema import detections, media


@dataclass(frozen=True)
class RepeatGroup:
    """One suspected repeat at one location, as the API and the page show it."""

    location: str
    location_files: int
    group: Group

    @property
    def id(self) -> str:
        # the group's first box: stable while the stored boxes and the rules stay as they are
        return f"{self.group.leader.id}"

    def public(self) -> dict[str, Any]:
        g = self.group
        return {
            "id": self.id,
            "location": self.location,
            "category": g.category,
            "bbox": [round(v, 4) for v in g.bbox],
            "files": g.files,
            "boxes": len(g.boxes),
            "events": g.events,
            "days": g.days,
            "share": round(g.files / max(self.location_files, 1), 3),
            "first": _iso(g.first),
            "last": _iso(g.last),
            "media": sorted({b.media_id for b in g.boxes}),
        }


def job_repeats(
    engine: Engine,
    job_id: str,
    rules: RepeatRules,
    *,
    threshold: float,
    gap_seconds: float,
    level: int,
) -> list[RepeatGroup]:
    """The job's suspected repeats, location by location, largest first within each."""
    cameras, found = job_events(engine, job_id, gap_seconds, level)
    place = {path: (e.deployment, e.id) for e in found for path in e.files}
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                detections.c.id,
                detections.c.media_id,
                detections.c.category,
                detections.c.x,
                detections.c.y,
                detections.c.w,
                detections.c.h,
                media.c.path,
                media.c.captured,
            )
            .join(media, media.c.id == detections.c.media_id)
            .where(
                media.c.job_id == job_id,
                media.c.failure.is_(None),
                detections.c.source == "machine",
                detections.c.confidence >= threshold,
            )
        ).all()
    by_location: dict[str, list[Box]] = {}
    for r in rows:
        location, event = place.get(r.path, ("", ""))
        by_location.setdefault(location, []).append(
            Box(
                r.id,
                r.media_id,
                CATEGORY_LABELS.get(r.category, r.category),
                (r.x, r.y, r.w, r.h),
                r.captured,
                event,
            )
        )
    files = {d.id: len(d.items) for d in cameras}
    return [
        RepeatGroup(location, files.get(location, 0), group)
        for location in sorted(by_location)
        for group in suspected_repeats(by_location[location], rules, files.get(location, 0))
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
