"""The gallery by event: a job's files in event order (deployment, then capture time) and the
files of one event, worked out from the stored results with the job's event gap and folder
level, for a page of the gallery and for "accept this event" in review."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from shared.events.grouping import by_file
from shared.events.model import DEFAULT_DEPLOYMENT_LEVEL, DEFAULT_EVENT_GAP, Event
from shared.store.event_data import job_events
from shared.store.reads import job_row
from shared.store.schema import event_tags, media, reviews


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
        return {
            "id": event.id,
            "deployment": event.deployment,
            "files": len(event.files),
            "start": event.start.isoformat() if event.start else None,
            "end": event.end.isoformat() if event.end else None,
            "outcome": event.outcome,
            "maxn": event.maxn,
            "species": event.species,
            "reviewed": event.reviewed,
            "counts_from": event.source,
            "confirmed": event.tag.public() if event.tag else None,
        }


# Working events out reads every file of the job (about 0.5 s for 50,000); paging through the
# gallery by event asks again for each page. The events change only with the files stored (a
# running job), the reviews and event tags (the counts are the review's where there is one),
# the job's threshold and its gap and level: kept per job under those, for the few jobs being
# looked at.
CACHED_JOBS = 4
_cache: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], EventIndex]] = OrderedDict()
_lock = threading.Lock()


def _fingerprint(engine: Engine, job_id: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    job = job_row(engine, job_id)
    with engine.connect() as conn:
        files = conn.execute(select(func.count()).where(media.c.job_id == job_id)).scalar_one()
        # every review action (and its undo) adds a review row; every event tag a tag row
        reviewed = conn.execute(
            select(func.max(reviews.c.id)).where(reviews.c.job_id == job_id)
        ).scalar()
        tagged = conn.execute(
            select(func.max(event_tags.c.id)).where(event_tags.c.job_id == job_id)
        ).scalar()
    options = job.options if job is not None else {}
    key = (
        files,
        reviewed,
        tagged,
        job.threshold if job else None,
        options.get("event_gap"),
        options.get("deployment_level"),
    )
    return key, options


def event_index(engine: Engine, job_id: str) -> EventIndex:
    key, options = _fingerprint(engine, job_id)
    where = (engine.url.render_as_string(hide_password=True), job_id)
    with _lock:
        hit = _cache.get(where)
        if hit is not None and hit[0] == key:
            _cache.move_to_end(where)
            return hit[1]
    gap = float(options.get("event_gap") or DEFAULT_EVENT_GAP)
    level = int(options.get("deployment_level") or DEFAULT_DEPLOYMENT_LEVEL)
    _, found = job_events(engine, job_id, gap, level)
    order = [path for event in found for path in event.files]
    index = EventIndex(
        {e.id: e for e in found}, by_file(found), {path: n for n, path in enumerate(order)}
    )
    with _lock:
        _cache[where] = (key, index)
        _cache.move_to_end(where)
        while len(_cache) > CACHED_JOBS:
            _cache.popitem(last=False)
    return index
