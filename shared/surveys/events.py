"""A project's independent events: every card's files of one location in one capture-time order, so
an event never stops at a card's edge (the last photo of one visit's card and the first of the
next can be one event). Times are the period's corrected ones where a person fixed its clock.
Each file keeps the card it came from; only finished cards count (their deployment periods say
which location each of their deployments is)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from shared.ecology.clock_fix import shifted
from shared.events.grouping import deployments, described, events, with_tags
from shared.events.model import Deployment, Event, EventTag, Item
from shared.options import JobOptions
from shared.store.event_data import event_items, tags_of
from shared.store.schema import jobs
from shared.store.snapshot import Reader
from shared.surveys.locations import Location, locations_of
from shared.surveys.periods import periods_of, sync_periods

# Files are keyed "<job id>/<path>" while grouped: a job id (URL-safe base64) holds no "/".
SEPARATOR = "/"


@dataclass(frozen=True)
class ProjectEvents:
    locations: list[tuple[Location, Deployment, int]]  # with the number of cards it holds
    events: list[Event]
    # each grouped file's key -> (job id, the card's own deployment): its deployment period
    period_of: dict[str, tuple[str, str]] = field(default_factory=dict)


def card_of(key: str) -> tuple[str, str]:
    """(job id, path) of a grouped file's key."""
    job_id, _, path = key.partition(SEPARATOR)
    return job_id, path


def _levels(engine: Reader, job_ids: list[str]) -> dict[str, int]:
    if not job_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.id, jobs.c.options).where(jobs.c.id.in_(job_ids))).all()
    return {r.id: JobOptions.from_json(r.options).level for r in rows}


def project_events(
    engine: Engine, project_id: int, job_ids: list[str], gap_seconds: float, *, now: datetime
) -> ProjectEvents:
    """The events of `job_ids` (the project's cards the caller may see), one deployment per
    location; numbered in location-name order, then time."""
    sync_periods(engine, project_id, now=now)
    return events_as_stored(engine, project_id, job_ids, gap_seconds)


def events_as_stored(
    engine: Reader, project_id: int, job_ids: list[str], gap_seconds: float
) -> ProjectEvents:
    """project_events without first matching new cards to locations: reads only, so it can
    read from a snapshot (an export's)."""
    wanted = set(job_ids)
    where: dict[tuple[str, str], int] = {}
    shifts: dict[tuple[str, str], timedelta] = {}
    for location_id, periods in periods_of(engine, project_id).items():
        for period in periods:
            if period.job_id in wanted:
                where[(period.job_id, period.deployment)] = location_id
                shifts[(period.job_id, period.deployment)] = period.clock_shift
    cards = sorted({job_id for job_id, _ in where}, key=job_ids.index)
    levels = _levels(engine, cards)
    items: dict[int, list[Item]] = {}
    seen: dict[int, set[str]] = {}
    period_of: dict[str, tuple[str, str]] = {}
    tags: dict[str, EventTag] = {}
    for job_id in cards:
        with engine.connect() as conn:  # tagged on a card's own page, by the card's first file
            tags.update(
                (f"{job_id}{SEPARATOR}{path}", tag) for path, tag in tags_of(conn, job_id).items()
            )
        for d in deployments(event_items(engine, job_id), levels.get(job_id, 1)):
            at = where.get((job_id, d.id))
            if at is None:
                continue  # a card whose deployment was never matched (cannot happen after sync)
            shift = shifts[(job_id, d.id)]  # a person's clock correction of the period
            keyed = [
                replace(i, path=f"{job_id}{SEPARATOR}{i.path}", captured=shifted(i.captured, shift))
                for i in d.items
            ]
            items.setdefault(at, []).extend(keyed)
            period_of.update((i.path, (job_id, d.id)) for i in keyed)
            seen.setdefault(at, set()).add(job_id)
    found: list[tuple[Location, Deployment, int]] = []
    for loc in sorted(locations_of(engine, project_id), key=lambda loc: loc.name):
        if loc.id not in items:
            continue
        merged = described(Deployment(loc.name, loc.name, loc.camera_serial, items[loc.id]))
        found.append((loc, merged, len(seen[loc.id])))
    grouped = with_tags(events([d for _, d, _ in found], gap_seconds), tags)
    return ProjectEvents(found, grouped, period_of)
